import { createRequire } from 'node:module';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { loadNativeUws } from '../server/http/uws.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ redis: true });
});
afterAll(() => h.close());

test('the native uWebSockets.js binary is in use', () => {
  loadNativeUws();
  const require = createRequire(import.meta.url);
  expect(Object.keys(require.cache).filter((p) => /uws_\w+_\d+\.node$/.test(p))).toHaveLength(1);
});

test('/health answers and names the native server', async () => {
  const res = await fetch(`${h.url}/health`);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ status: 'ok', uws: 'native' });
});

test('/ready is 200 when the database and Redis answer', async () => {
  const res = await fetch(`${h.url}/ready`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: 'ready', database: 'ok', redis: 'ok' });
});

test('/metrics exposes sockets, RPC counts, latency histograms, error codes and the pool', async () => {
  const shop = await h.login('shop1@demo.lilium');
  await call(shop.socket, 'zones:list', {});
  await call(shop.socket, 'zones:list', { nope: 1 } as never).catch(() => undefined);
  const res = await fetch(`${h.url}/metrics`);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const text = await res.text();
  expect(text).toMatch(/^lilium_connected_sockets [1-9]/m);
  expect(text).toContain('lilium_rpc_calls_total{event="zones:list",code="OK"} 1');
  expect(text).toContain('lilium_rpc_calls_total{event="zones:list",code="BAD_REQUEST"} 1');
  expect(text).toContain('lilium_rpc_duration_seconds_count{event="zones:list"} 2');
  expect(text).toContain('lilium_rpc_errors_total{code="BAD_REQUEST"} 1');
  expect(text).toMatch(/lilium_db_pool_connections\{kind="total"\} \d+/);
});

test('anything else is a 404', async () => {
  expect((await fetch(`${h.url}/orders`)).status).toBe(404);
});
