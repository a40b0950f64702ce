import { createRequire } from 'node:module';
import { afterAll, beforeAll, expect, test } from 'vitest';
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

test('anything else is a 404', async () => {
  expect((await fetch(`${h.url}/orders`)).status).toBe(404);
});
