import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { statementsOf } from './support/statements.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { key, makeProduct, openVendors } from './support/ordering.js';
import { until } from './support/until.js';
import { subscribeBrowser } from './support/webpush.js';

// The work a checkout leaves for after its commit, counted with polling out of the way (a minute apart).
let h: Harness;
let shop: Session;
let staff: Session[];

beforeAll(async () => {
  h = await startHarness({ env: { JOBS_POLL_MS: '60000' } });
  const admin = await h.login('admin@demo.lilium');
  staff = await Promise.all([1, 2].map((i) => h.login(`vendor${i}@demo.lilium`)));
  const vendorIds = await Promise.all(staff.map(async (s) => (await call(s.socket, 'me:get', {})).vendorId!));
  await openVendors(h, admin, vendorIds);
  shop = await h.login('shop1@demo.lilium');
  for (const s of staff) await subscribeBrowser(s);
});
afterAll(() => h.close());

test("a checkout's deliveries are fetched once: its commit wakes one delivery worker, not every one", async () => {
  await call(shop.socket, 'cart:clear', {});
  for (const s of staff) await call(shop.socket, 'cart:add', { productId: (await makeProduct(h, s, { stock: 50 })).id, quantity: 1 });
  const statements = await statementsOf(async () => {
    const { orders } = await call(shop.socket, 'cart:checkout', { idempotencyKey: key() });
    const sent = async () =>
      (
        await h.q<{ n: number }>(
          `SELECT count(*)::int AS n FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
            WHERE n.link_id = ANY($1::uuid[]) AND d.status = 'SENT'`,
          [orders.map((o) => o.id)],
        )
      )[0]!.n;
    await until(async () => (await sent()) > 0, 10_000);
    // Time for any other worker woken by the same commit to fetch.
    await new Promise((r) => setTimeout(r, 300));
  });
  const fetches = statements.filter((s) => s.sql.includes('WITH next as') && s.params[0] === 'delivery');
  expect(fetches).toHaveLength(1);
});
