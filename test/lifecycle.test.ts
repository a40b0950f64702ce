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
    [
      { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) },
      /^config: SMTP_URL or SMS_GATEWAY_URL is required when NODE_ENV=production, so that password resets can go out \(it is not set\)$/,
    ],
    [{ SMTP_URL: 'smtp://mail.example.com:587' }, /^config: MAIL_FROM is required with SMTP_URL \(it is not set\)$/],
    [{ SMTP_URL: 'http://user:pass@mail.example.com' }, /^config: SMTP_URL .*\(got a hidden value\)$/],
    [{ VAPID_PUBLIC_KEY: 'B'.repeat(87) }, /^config: VAPID_PRIVATE_KEY is required with the other VAPID_ variables \(it is not set\)$/],
    [{ VAPID_PUBLIC_KEY: 'abc' }, /^config: VAPID_PUBLIC_KEY must decode to 65 bytes \(got a hidden value\)$/],
    [{ VAPID_SUBJECT: 'ops@example.com' }, /^config: VAPID_SUBJECT must be a mailto: or https: URL \(got "ops@example.com"\)$/],
    [{ SMS_GATEWAY_URL: 'https://sms.example.com', SMS_GATEWAY_BODY: '{"to":"{to}"}' }, /^config: SMS_GATEWAY_BODY must contain \{to\} and \{text\}/],
    [
      { SMS_GATEWAY_BODY: '{"to":{to},"text":"{text}"}' },
      /^config: SMS_GATEWAY_BODY must be JSON once \{to\} and \{text\} are filled \(put them inside strings\)/,
    ],
    [{ PROVIDER_TIMEOUT_MS: '0' }, /^config: PROVIDER_TIMEOUT_MS /],
    [
      { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), SMS_GATEWAY_URL: 'https://sms.example.com/send', WEBPUSH_ALLOW_HTTP: '1' },
      /^config: WEBPUSH_ALLOW_HTTP is not allowed when NODE_ENV=production/,
    ],
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
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), SMTP_URL: 'smtp://mail.example.com', MAIL_FROM: 'a@example.com' }).seed).toBe(
      'never',
    );
    expect(loadConfig({}).jwt.secret).not.toBe(loadConfig({}).jwt.secret);
  });

  test('production starts with either channel for password resets; a channel left unset only logs', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) };
    expect(loadConfig({ ...production, SMS_GATEWAY_URL: 'https://sms.example.com/send' }).channels).toEqual({
      timeoutMs: 10_000,
      email: null,
      webPush: null,
      fcm: null,
      sms: { url: 'https://sms.example.com/send', auth: null, body: '{"to":"{to}","text":"{text}"}' },
    });
    expect(loadConfig({ ...production, SMTP_URL: 'smtps://u:p@mail.example.com', MAIL_FROM: 'Lilium <no-reply@example.com>' }).channels.email).toEqual({
      url: 'smtps://u:p@mail.example.com',
      from: 'Lilium <no-reply@example.com>',
    });
    expect(loadConfig({ FCM_CREDENTIALS_FILE: '/run/secrets/fcm.json', FCM_ENDPOINT: 'http://127.0.0.1:9999/' }).channels.fcm).toEqual({
      credentialsFile: '/run/secrets/fcm.json',
      projectId: null,
      endpoint: 'http://127.0.0.1:9999',
      tokenUrl: null,
    });
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
