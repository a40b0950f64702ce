import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { codeOf } from './support/expect.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { ACCESS_TOKEN_TTL_S: '2', AUTH_GRACE_S: '2' } });
});
afterAll(() => h.close());

test('an expired token on an open socket gets auth:expired; calls answer UNAUTHENTICATED until auth:refresh', async () => {
  const s = await h.login('shop1@demo.lilium');
  await h.next(s.socket, 'auth:expired', undefined, 15_000);
  expect(await codeOf(call(s.socket, 'me:get', {}))).toBe('UNAUTHENTICATED');
  // Listening before the refresh: on a busy machine its short-lived token may expire before the next line runs.
  const warnedAgain = h.next(s.socket, 'auth:expired', undefined, 15_000);
  const renewed = await call(s.socket, 'auth:refresh', { refreshToken: s.refreshToken });
  expect(renewed.expiresIn).toBe(2);
  expect((await call(s.socket, 'me:get', {})).id).toBe(s.userId);
  // The refresh restarted the clock: the socket is warned again rather than dropped.
  await warnedAgain;
});

test('a socket that does not refresh within the grace period is disconnected', async () => {
  const s = await h.login('shop2@demo.lilium');
  await h.next(s.socket, 'auth:expired', undefined, 15_000);
  expect(await h.disconnected(s.socket)).toBe('io server disconnect');
});

test('a socket authenticated in the handshake is held to the same expiry', async () => {
  const s = await h.login('shop3@demo.lilium');
  const viaToken = await h.connect({ token: s.accessToken });
  await h.next(viaToken, 'auth:expired', undefined, 15_000);
  expect(await h.disconnected(viaToken)).toBe('io server disconnect');
});
