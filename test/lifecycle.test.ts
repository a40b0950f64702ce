import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call, RpcError } from '../protocol/client.js';
import { loadConfig } from '../server/config.js';
import { startHarness, type Harness } from './support/harness.js';
import { dbUrl } from './support/env.js';
import { spawnServer } from './support/spawn.js';
import { testEvents } from './support/test-events.js';

describe('configuration errors name the variable', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'abc' }, /^config: PORT .*got "abc"/],
    [{ PORT: '70000' }, /^config: PORT /],
    [{ DATABASE_URL: 'mysql://x@localhost/db' }, /^config: DATABASE_URL /],
    [{ REDIS_URL: 'not a url' }, /^config: REDIS_URL /],
    [{ JWT_SECRET: 'short' }, /^config: JWT_SECRET must be at least 32 characters \(got a hidden value\)/],
    [{ NODE_ENV: 'production' }, /^config: JWT_SECRET is required when NODE_ENV=production/],
    [{ LOG_LEVEL: 'loud' }, /^config: LOG_LEVEL /],
    [{ BCRYPT_COST: '3' }, /^config: BCRYPT_COST /],
    [{ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), SEED: 'auto' }, /^config: SEED cannot be auto when NODE_ENV=production/],
    [{ BOOTSTRAP_ADMIN_EMAIL: 'not an email', BOOTSTRAP_ADMIN_PASSWORD_FILE: '/run/secrets/x' }, /^config: BOOTSTRAP_ADMIN_EMAIL /],
  ];
  test.each(cases)('%o', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  test('defaults need nothing set: embedded database, one node', () => {
    const config = loadConfig({});
    expect(config.database).toEqual({ kind: 'pglite', dir: './data/pglite' });
    expect(config.redis).toBeNull();
    expect(config.bcryptCost).toBe(12);
    expect(config.jwt.accessTtlS).toBe(900);
    expect(config.seed).toBe('auto');
  });

  test('production never seeds by default, and without JWT_SECRET no two starts share a secret', () => {
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).seed).toBe('never');
    expect(loadConfig({}).jwt.secret).not.toBe(loadConfig({}).jwt.secret);
  });

  test('the server stops with one line naming the variable', async () => {
    const p = spawnServer({ PORT: 'abc' });
    const { code } = await p.exited;
    expect(code).toBe(1);
    expect(p.stderr().trim().split('\n')).toEqual([expect.stringMatching(/^config: PORT /)]);
  });

  test('the server refuses to run on the JavaScript fallback of uWebSockets.js', async () => {
    const p = spawnServer({ UWS_USE_FALLBACK: '1', PGLITE_DIR: 'memory://', SEED: 'never', LOG_LEVEL: 'silent' });
    const { code } = await p.exited;
    expect(code).toBe(1);
    expect(p.stderr()).toBe('lilium: cannot start: uWebSockets.js: UWS_USE_FALLBACK asks for the JavaScript fallback, which Lilium never runs on; unset it\n');
  });
});

describe('graceful shutdown', () => {
  const t = testEvents();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ extraHandlers: t.registrations });
  });
  afterAll(() => h.close());

  test('draining pushes server:shutdown, answers the calls in flight, refuses new ones, then closes', async () => {
    const node = h.app;
    const a = await h.login('shop1@demo.lilium');
    const b = await h.login('shop2@demo.lilium');
    const slow = Promise.all([a, b, a].map((s) => call(s.socket, 'test:slow' as 'me:get', {})));
    while (t.probe.slowStarted < 3) await new Promise((r) => setTimeout(r, 5));

    const notice = h.next(a.socket, 'server:shutdown');
    const closed = node.close();
    expect(await notice).toEqual({ reconnectInMs: 1000 });
    await expect(call(b.socket, 'zones:list', {})).rejects.toSatisfy((e: RpcError) => e.code === 'UNAVAILABLE');
    t.probe.release();
    expect(await slow).toEqual([{ done: true }, { done: true }, { done: true }]);
    await closed;
    await h.disconnected(a.socket);
    await expect(fetch(`${h.url}/health`)).rejects.toThrow();
  });

  test('SIGTERM drains a running process and exits 0 within 10 s', async () => {
    const p = spawnServer({ DATABASE_URL: dbUrl(h.dbName!), SEED: 'never', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', JWT_SECRET: 'x'.repeat(32) });
    const [, url] = await p.waitFor(/listening on (http:\S+)/);
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    const signalled = Date.now();
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);
  });
});
