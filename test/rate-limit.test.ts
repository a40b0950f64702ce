import { afterAll, beforeAll, expect, test } from 'vitest';
import { call, RpcError } from '../protocol/client.js';
import { expectRateLimited } from './support/expect.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_PER_S: '1', RATE_LIMIT_BURST: '5' } });
});
afterAll(() => h.close());

test('calls beyond the burst answer RATE_LIMITED with a retry hint, counted per user across sockets', async () => {
  const a = await h.login('shop3@demo.lilium');
  const b = await h.login('shop3@demo.lilium');
  const started = Date.now();
  const outcomes = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      call((i % 2 ? a : b).socket, 'zones:list', {}).then(
        () => 'OK',
        (e: RpcError) => e,
      ),
    ),
  );
  const elapsedS = (Date.now() - started) / 1000;
  const ok = outcomes.filter((o) => o === 'OK').length;
  const limited = outcomes.filter((o): o is RpcError => o instanceof RpcError && o.code === 'RATE_LIMITED');
  // The login call took one token from the same user's bucket; one more refills each second.
  expect(ok).toBeLessThanOrEqual(5 + Math.ceil(elapsedS));
  expect(limited.length).toBe(12 - ok);
  // One token a second: the next comes within a second.
  for (const e of limited) expectRateLimited(e, 1, 1000);

  const other = await h.login('shop4@demo.lilium');
  await expect(call(other.socket, 'zones:list', {})).resolves.toBeTruthy();
});
