import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { checkSessions } from '../server/auth/session-check.js';
import { statementsOf } from './support/statements.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { rejection } from './support/expect.js';
import { makeProduct, openVendors } from './support/ordering.js';
import { RedisServer } from './support/redis-server.js';
import { until } from './support/until.js';

/**
 * Ending a session (logout, password change, disabling or deleting the account) reaches every node
 * from the database within SESSION_CHECK_S, whatever Redis does; until then, the ended session's
 * writes are refused on any node.
 */

const password = 'revocation-test-pass';
/** The whole error answer of a call that must fail. */
const refusal = async (p: Promise<unknown>) => {
  const e = await rejection(p);
  return { code: e.code, message: e.message, details: e.details };
};

async function newDriver(h: Harness, admin: Session): Promise<{ id: string; email: string }> {
  const email = `driver-${randomUUID().slice(0, 8)}@test.lilium`;
  const user = await call(admin.socket, 'users:create', { role: 'DRIVER', name: 'Revoked driver', email, password });
  return { id: user.id, email };
}

/** What a socket that reconnects with an ended session's token is told. */
async function handshakeRefusal(h: Harness, token: string, url: string): Promise<unknown> {
  return h.connect({ token, url }).then(
    () => 'connected',
    (err: { data?: unknown }) => err.data,
  );
}

describe('two nodes whose Redis stops and returns', () => {
  const redis = new RedisServer();
  let h: Harness;
  let nodeB: string;
  let admin: Session;
  const ready = async () => ((await fetch(`${h.url}/ready`)).json() as Promise<{ status: string }>).then((r) => r.status);

  beforeAll(async () => {
    await redis.start();
    h = await startHarness({ redis: true, env: { REDIS_URL: redis.url, SESSION_CHECK_S: '1', RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_S: '100000' } });
    nodeB = (await h.spawnNode()).url;
    admin = await h.login('admin@demo.lilium');
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await redis.stop();
  });

  async function logoutReachesNodeB(): Promise<void> {
    const a = await h.login('shop1@demo.lilium');
    const b = await h.connect({ token: a.accessToken, url: nodeB });
    expect((await call(b, 'me:get', {})).id).toBe(a.userId);
    const dropped = h.disconnected(b, 20_000);
    await call(a.socket, 'auth:logout', {});
    await dropped;
    expect(await handshakeRefusal(h, a.accessToken, nodeB)).toEqual({ code: 'UNAUTHENTICATED', message: 'invalid or expired token' });
  }

  async function disablingReachesNodeB(): Promise<void> {
    const driver = await newDriver(h, admin);
    const onB = await h.login(driver.email, { password, url: nodeB });
    expect((await call(onB.socket, 'driver:availability', { available: true })).available).toBe(true);
    const dropped = h.disconnected(onB.socket, 20_000);
    await call(admin.socket, 'users:set-status', { id: driver.id, status: 'DISABLED' });
    await dropped;
    expect(await handshakeRefusal(h, onB.accessToken, nodeB)).toEqual({ code: 'UNAUTHENTICATED', message: 'invalid or expired token' });
  }

  test('while Redis is down, logging out on node A drops the same session’s socket on node B', async () => {
    await redis.stop();
    await until(async () => (await ready()) === 'degraded');
    await logoutReachesNodeB();
  });

  test('while Redis is down, disabling an account on node A drops its socket on node B', async () => {
    await disablingReachesNodeB();
  });

  test('while Redis is down, staff moved to another vendor on node A stop seeing the old one’s drafts on node B, still connected', async () => {
    const vendors = (await call(admin.socket, 'vendors:list', { status: 'APPROVED' })).items.slice(0, 2).map((v) => v.id);
    await openVendors(h, admin, vendors);
    const draft = await makeProduct(h, admin, { vendorId: vendors[0], status: 'DRAFT' });
    const email = `mover-${randomUUID().slice(0, 8)}@test.lilium`;
    const staff = await call(admin.socket, 'users:create', { role: 'VENDOR', name: 'Mover', email, password, vendorId: vendors[0] });
    const mover = await h.login(email, { password, url: nodeB });
    const seesDraft = () =>
      call(mover.socket, 'products:get', { id: draft.id }).then(
        () => true,
        (e: { code?: string }) => (e.code === 'NOT_FOUND' ? false : Promise.reject(e)),
      );
    expect(await seesDraft()).toBe(true);
    await call(admin.socket, 'users:update', { id: staff.id, vendorId: vendors[1] });
    await until(async () => !(await seesDraft()));
    expect(mover.socket.connected).toBe(true);
  });

  test('once Redis is back, logout and disabling still reach node B', async () => {
    await redis.start();
    await until(async () => (await ready()) === 'ready');
    await logoutReachesNodeB();
    await disablingReachesNodeB();
  });
});

/**
 * Node B runs without Redis and with an hour between checks: it hears of nothing node A ends until
 * a call of the ended session comes, as a node would while its Redis messages are lost.
 */
describe('a node that has not yet heard of an ended session', () => {
  let h: Harness;
  let nodeB: string;
  let admin: Session;

  beforeAll(async () => {
    h = await startHarness({ env: { SESSION_CHECK_S: '3600' } });
    nodeB = (await h.spawnNode()).url;
    admin = await h.login('admin@demo.lilium');
  }, 60_000);
  afterAll(() => h?.close());

  test('a disabled driver’s driver:availability answers UNAUTHENTICATED, not INTERNAL, and the socket is dropped', async () => {
    const driver = await newDriver(h, admin);
    const onB = await h.login(driver.email, { password, url: nodeB });
    expect((await call(onB.socket, 'driver:availability', { available: true })).available).toBe(true);
    await call(admin.socket, 'users:set-status', { id: driver.id, status: 'DISABLED' });
    expect(onB.socket.connected).toBe(true);
    const dropped = h.disconnected(onB.socket, 20_000);
    expect(await refusal(call(onB.socket, 'driver:availability', { available: false }))).toEqual({
      code: 'UNAUTHENTICATED',
      message: 'this session has ended; sign in again',
    });
    await dropped;
  });

  test('a deleted account’s calls answer UNAUTHENTICATED, reads and writes alike, and the socket is dropped', async () => {
    const driver = await newDriver(h, admin);
    const onB = await h.login(driver.email, { password, url: nodeB });
    await call(admin.socket, 'users:delete', { id: driver.id });
    expect(await refusal(call(onB.socket, 'me:get', {}))).toEqual({ code: 'UNAUTHENTICATED', message: 'this account no longer exists' });
    const dropped = h.disconnected(onB.socket, 20_000);
    expect(await refusal(call(onB.socket, 'driver:availability', { available: true }))).toEqual({
      code: 'UNAUTHENTICATED',
      message: 'this session has ended; sign in again',
    });
    await dropped;
  });

  test('after logout on node A, the same session’s writes on node B are refused', async () => {
    const a = await h.login('shop2@demo.lilium');
    const b = await h.connect({ token: a.accessToken, url: nodeB });
    await call(a.socket, 'auth:logout', {});
    expect(await refusal(call(b, 'me:update', { name: 'Still here' }))).toEqual({ code: 'UNAUTHENTICATED', message: 'this session has ended; sign in again' });
    const [user] = await h.q<{ name: string }>('SELECT name FROM users WHERE id = $1', [a.userId]);
    expect(user!.name).not.toBe('Still here');
  });

  test('a node’s check reads the sessions of all its sockets in one statement, drops the ended ones and keeps the rest', async () => {
    const sessions = await Promise.all(['shop3@demo.lilium', 'vendor2@demo.lilium', 'driver2@demo.lilium'].map((e) => h.login(e)));
    const extra = await Promise.all(sessions.map((s) => Promise.all(Array.from({ length: 30 }, () => h.connect({ token: s.accessToken })))));
    // Ended elsewhere, its message lost: only the database knows.
    await h.q(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'test' WHERE user_id = $1 AND revoked_at IS NULL`, [sessions[0]!.userId]);
    // Background work (the sequencer's poll) may run meanwhile; it never reads sessions.
    const statements = (await statementsOf(() => checkSessions(h.app.deps))).filter((s) => /\bsessions\b/.test(s.sql));
    expect(statements).toHaveLength(1);
    expect(statements[0]!.sql).toContain('se.id = ANY($1::uuid[])');
    const ended = [sessions[0]!.socket, ...extra[0]!];
    await until(async () => ended.every((s) => s.disconnected));
    expect([...sessions.slice(1).map((s) => s.socket), ...extra.slice(1).flat()].every((s) => s.connected)).toBe(true);
  });
});
