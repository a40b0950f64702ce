import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call, RpcError } from '../protocol/client.js';
import { LockHolder } from './support/lock-holder.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { TEST_EFFECTS_DDL, testEvents } from './support/test-events.js';
import { until } from './support/until.js';

const t = testEvents();
let h: Harness;
let shop: Session;

/** Calls an event the typed protocol does not know (the test-only ones). */
function raw(s: Session['socket'], event: string, input: unknown) {
  return call(s, event as 'me:get', input as never).then(
    (data) => ({ ok: true as const, data: data as unknown }),
    (err: RpcError) => ({ ok: false as const, code: err.code, message: err.message, details: err.details }),
  );
}

beforeAll(async () => {
  h = await startHarness({ extraHandlers: t.registrations });
  await h.q(TEST_EFFECTS_DDL);
  shop = await h.login('shop1@demo.lilium');
});
afterAll(() => h.close());

describe('validation and errors', () => {
  test('bad input answers BAD_REQUEST with the zod issues and never reaches the handler', async () => {
    const before = t.probe.runs;
    const res = await raw(shop.socket, 'test:once', { idempotencyKey: 'short', note: 5, extra: true });
    expect(res).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    const issues = (res as { details: Array<{ path: string; code: string }> }).details.map((i) => `${i.path}:${i.code}`).sort();
    expect(issues).toEqual([':unrecognized_keys', 'idempotencyKey:too_small', 'note:invalid_type']);
    expect(t.probe.runs).toBe(before);
  });

  test('input that is not an object is refused', async () => {
    expect(await raw(shop.socket, 'test:echo', 'hello')).toMatchObject({ ok: false, code: 'BAD_REQUEST', details: [{ path: '', code: 'invalid_type' }] });
    expect(await raw(shop.socket, 'test:echo', undefined)).toMatchObject({ ok: false, code: 'BAD_REQUEST', details: [{ path: '', code: 'invalid_type' }] });
  });

  test('an unknown event is answered on its ack and by an rpc:error push', async () => {
    const pushed = h.next(shop.socket, 'rpc:error');
    expect(await raw(shop.socket, 'orders:teleport', {})).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(await pushed).toMatchObject({ event: 'orders:teleport', error: { code: 'NOT_FOUND' } });
  });

  test('an event without an ack callback gets an rpc:error push', async () => {
    const pushed = h.next(shop.socket, 'rpc:error');
    (shop.socket as unknown as { emit(e: string, i: unknown): void }).emit('zones:list', {});
    expect(await pushed).toMatchObject({ event: 'zones:list', error: { code: 'BAD_REQUEST', message: expect.stringContaining('ack') } });
  });

  test('an input over the size limit answers PAYLOAD_TOO_LARGE', async () => {
    expect(await raw(shop.socket, 'test:echo', { text: 'x'.repeat(70 * 1024) })).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
    expect(await raw(shop.socket, 'test:echo', { text: 'small' })).toEqual({ ok: true, data: { text: 'small' } });
  });

  test('an unexpected error answers INTERNAL with a request id, logs the stack, and shows the client no detail', async () => {
    const res = await raw(shop.socket, 'test:boom', {});
    expect(res).toMatchObject({ ok: false, code: 'INTERNAL' });
    const message = (res as { message: string }).message;
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain(' at ');
    const requestId = /request (\S+)\)/.exec(message)?.[1];
    expect(requestId).toBeTruthy();
    const logged = h.logs.find((l) => l.requestId === requestId && l.level === 50);
    expect((logged?.err as { stack?: string })?.stack).toContain('hunter2');
  });

  test('a result that breaks its schema is an INTERNAL error, not a wrong answer', async () => {
    expect(await raw(shop.socket, 'test:bad-result', {})).toMatchObject({ ok: false, code: 'INTERNAL' });
  });

  test('every call writes one log line with event, user, outcome and duration', async () => {
    await raw(shop.socket, 'test:echo', { text: 'log me' });
    const line = h.logs.filter((l) => l.msg === 'rpc' && l.event === 'test:echo').at(-1);
    expect(line).toMatchObject({ event: 'test:echo', userId: shop.userId, code: 'OK' });
    expect(typeof line?.ms).toBe('number');
    expect(typeof line?.requestId).toBe('string');
  });
});

describe('authentication and roles', () => {
  test('a signed-in event on an unauthenticated socket answers UNAUTHENTICATED', async () => {
    const anon = await h.connect();
    expect(await raw(anon, 'me:get', {})).toMatchObject({ ok: false, code: 'UNAUTHENTICATED' });
  });

  test('a role outside the allow-list answers FORBIDDEN', async () => {
    expect(await raw(shop.socket, 'test:admins', {})).toMatchObject({ ok: false, code: 'FORBIDDEN', details: { reason: 'role' } });
    const admin = await h.login('admin@demo.lilium');
    expect(await raw(admin.socket, 'test:admins', {})).toEqual({ ok: true, data: {} });
  });

  test('a token in the handshake authenticates the socket; a bad one is refused', async () => {
    const socket = await h.connect({ token: shop.accessToken });
    expect((await call(socket, 'me:get', {})).id).toBe(shop.userId);
    await expect(h.connect({ token: `${shop.accessToken}x` })).rejects.toThrow('UNAUTHENTICATED');
  });

  test('a client that leaves while its handshake token is being checked does not take the node down', async () => {
    const rejections: unknown[] = [];
    const onRejection = (err: unknown) => rejections.push(err);
    process.on('unhandledRejection', onRejection);
    const locker = await LockHolder.open(h);
    try {
      // The session lookup of the handshake waits on this lock, so the client can leave before it answers.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE');
      const before = h.app.deps.io.engine.clientsCount;
      const leaving = io(h.url, { transports: ['websocket'], auth: { token: shop.accessToken }, reconnection: false, forceNew: true });
      await until(async () => (await locker.waiters()) === 1);
      leaving.close();
      await until(async () => h.app.deps.io.engine.clientsCount === before);
      await locker.query('COMMIT');
      await until(async () => (await h.lockWaiters()) === 0);
      expect((await call(shop.socket, 'me:get', {})).id).toBe(shop.userId);
      await new Promise((resolve) => setImmediate(resolve));
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });
});

describe('idempotency', () => {
  const effects = async (note: string) => (await h.q<{ n: number }>('SELECT count(*)::int AS n FROM test_effects WHERE note = $1', [note]))[0]!.n;

  test('a retry with the same key replays the first result without running again', async () => {
    const key = randomUUID();
    const before = t.probe.runs;
    const first = await raw(shop.socket, 'test:once', { idempotencyKey: key, note: 'retry' });
    const second = await raw(shop.socket, 'test:once', { idempotencyKey: key, note: 'retry' });
    expect(first.ok).toBe(true);
    expect(second).toEqual(first);
    expect(t.probe.runs - before).toBe(1);
    expect(await effects('retry')).toBe(1);
  });

  test('twenty racing calls with one key run the handler once and all get its result', async () => {
    const key = randomUUID();
    const before = t.probe.runs;
    const results = await Promise.all(Array.from({ length: 20 }, () => raw(shop.socket, 'test:once', { idempotencyKey: key, note: 'race' })));
    expect(t.probe.runs - before).toBe(1);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(results[0]!.ok).toBe(true);
    expect(await effects('race')).toBe(1);
  });

  test('racing from two sockets of the same user also runs once', async () => {
    const other = await h.login('shop1@demo.lilium');
    const key = randomUUID();
    const before = t.probe.runs;
    await Promise.all([shop, other, shop, other].map((s) => raw(s.socket, 'test:once', { idempotencyKey: key, note: 'two-sockets' })));
    expect(t.probe.runs - before).toBe(1);
  });

  test('the same key with a different input answers IDEMPOTENCY_MISMATCH', async () => {
    const key = randomUUID();
    await raw(shop.socket, 'test:once', { idempotencyKey: key, note: 'a' });
    expect(await raw(shop.socket, 'test:once', { idempotencyKey: key, note: 'b' })).toMatchObject({ ok: false, code: 'IDEMPOTENCY_MISMATCH' });
    expect(await effects('b')).toBe(0);
  });

  test('keys are per user: another user with the same key runs on its own', async () => {
    const key = randomUUID();
    const other = await h.login('shop2@demo.lilium');
    const before = t.probe.runs;
    await raw(shop.socket, 'test:once', { idempotencyKey: key, note: 'per-user' });
    await raw(other.socket, 'test:once', { idempotencyKey: key, note: 'per-user' });
    expect(t.probe.runs - before).toBe(2);
  });

  test('a call that fails rolls back its writes and is not remembered', async () => {
    const key = randomUUID();
    const before = t.probe.runs;
    expect(await raw(shop.socket, 'test:once-fails', { idempotencyKey: key, note: 'rolled-back' })).toMatchObject({ ok: false, code: 'CONFLICT' });
    expect(await raw(shop.socket, 'test:once-fails', { idempotencyKey: key, note: 'rolled-back' })).toMatchObject({ ok: false, code: 'CONFLICT' });
    expect(t.probe.runs - before).toBe(2);
    expect(await effects('rolled-back')).toBe(0);
    expect(await h.q('SELECT 1 FROM idempotency_keys WHERE key = $1', [key])).toHaveLength(0);
  });

  test('from a session that has ended, the call is refused before its handler runs, and its key is not taken', async () => {
    const ended = await h.login('shop1@demo.lilium');
    // Ended elsewhere, its message lost: only the database knows. The claim is sent behind the session check.
    await h.q(
      `UPDATE sessions SET revoked_at = now(), revoked_reason = 'test' WHERE id = (SELECT id FROM sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1)`,
      [ended.userId],
    );
    const key = randomUUID();
    const before = t.probe.runs;
    expect(await raw(ended.socket, 'test:once', { idempotencyKey: key, note: 'ended' })).toEqual({
      ok: false,
      code: 'UNAUTHENTICATED',
      message: 'this session has ended; sign in again',
    });
    expect(t.probe.runs).toBe(before);
    expect(await effects('ended')).toBe(0);
    expect(await h.q('SELECT 1 FROM idempotency_keys WHERE key = $1', [key])).toHaveLength(0);
  });

  test('a stored key is kept in the database with its result', async () => {
    const key = randomUUID();
    await raw(shop.socket, 'test:once', { idempotencyKey: key, note: 'stored' });
    const [row] = await h.q<{ event: string; result: { note: string } }>('SELECT event, result FROM idempotency_keys WHERE user_id = $1 AND key = $2', [
      shop.userId,
      key,
    ]);
    expect(row).toMatchObject({ event: 'test:once', result: { note: 'stored' } });
  });
});
