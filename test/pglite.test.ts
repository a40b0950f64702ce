import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { startHarness, type Harness } from './support/harness.js';
import { makeProduct, openVendors } from './support/ordering.js';
import { TEST_EFFECTS_DDL, testEvents } from './support/test-events.js';

const t = testEvents();
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ database: 'pglite', extraHandlers: t.registrations });
  await h.q(TEST_EFFECTS_DDL);
});
afterAll(() => h.close());

test('the embedded database is migrated and seeded with the demo logins', async () => {
  expect(h.app.seeded).toBe(true);
  for (const email of [
    'superadmin@demo.lilium',
    'admin@demo.lilium',
    'manager1@demo.lilium',
    'vendor1@demo.lilium',
    'shop5@demo.lilium',
    'driver2@demo.lilium',
  ]) {
    const s = await h.login(email);
    expect((await call(s.socket, 'me:get', {})).email).toBe(email);
  }
  const [counts] = await h.q<{ products: number; zones: number }>(
    'SELECT (SELECT count(*)::int FROM products) AS products, (SELECT count(*)::int FROM zones) AS zones',
  );
  expect(counts!.products).toBeGreaterThanOrEqual(200);
  expect(counts!.zones).toBe(4);
});

test('racing calls with one idempotency key run once on PGlite too', async () => {
  const shop = await h.login('shop1@demo.lilium');
  const key = randomUUID();
  const results = await Promise.all(
    Array.from({ length: 10 }, () => call(shop.socket, 'test:once' as 'me:get', { idempotencyKey: key, note: 'pglite' } as never)),
  );
  expect(t.probe.runs).toBe(1);
  expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
  expect((await h.q<{ n: number }>("SELECT count(*)::int AS n FROM test_effects WHERE note = 'pglite'"))[0]!.n).toBe(1);
});

test('concurrent transactions do not interleave on the single embedded session', async () => {
  const shop = await h.login('shop2@demo.lilium');
  const outcomes = await Promise.allSettled(
    Array.from({ length: 10 }, (_, i) =>
      call(shop.socket, i % 2 ? ('test:once-fails' as 'me:get') : ('test:once' as 'me:get'), { idempotencyKey: randomUUID(), note: `mix-${i}` } as never),
    ),
  );
  expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
  const notes = (await h.q<{ note: string }>("SELECT note FROM test_effects WHERE note LIKE 'mix-%' ORDER BY note")).map((r) => r.note);
  expect(notes).toEqual(['mix-0', 'mix-2', 'mix-4', 'mix-6', 'mix-8']);
});

test('a cart becomes orders on PGlite: checkout, a concurrent retry and a rejection', async () => {
  const [admin, staff, shop] = await Promise.all(['admin@demo.lilium', 'vendor1@demo.lilium', 'shop1@demo.lilium'].map((e) => h.login(e)));
  await openVendors(h, admin!, [(await call(staff!.socket, 'me:get', {})).vendorId!]);
  const p = await makeProduct(h, staff!, { stock: 5, price: 700 });
  await call(shop!.socket, 'cart:add', { productId: p.id, quantity: 2 });
  const k = randomUUID();
  const [a, b] = await Promise.all([0, 1].map(() => call(shop!.socket, 'cart:checkout', { idempotencyKey: k })));
  expect(a!.checkoutId).toBe(b!.checkoutId);
  expect(a!.orders[0]).toMatchObject({ subtotal: 1400, status: 'PENDING' });
  await call(staff!.socket, 'order:reject', { orderId: a!.orders[0]!.id, reason: 'pglite' });
  expect((await call(shop!.socket, 'products:get', { id: p.id })).stock).toBe(5);
  // Each side was told, once, in its language.
  const told = async (s: typeof shop, kind: 'order.new' | 'order.rejected') =>
    (await call(s!.socket, 'notifications:list', { kind })).items.map((n) => [n.link?.id, n.title]);
  const { number } = a!.orders[0]!;
  expect(await told(staff, 'order.new')).toEqual([[a!.orders[0]!.id, `طلب جديد رقم ${number}`]]);
  expect(await told(shop, 'order.rejected')).toEqual([[a!.orders[0]!.id, `تم رفض الطلب رقم ${number}`]]);
});

test('a checkout that brings a product to its low-stock threshold runs again on PGlite too: one order, the staff told once', async () => {
  const [admin, staff, shop] = await Promise.all(['admin@demo.lilium', 'vendor1@demo.lilium', 'shop2@demo.lilium'].map((e) => h.login(e)));
  await openVendors(h, admin!, [(await call(staff!.socket, 'me:get', {})).vendorId!]);
  const p = await makeProduct(h, staff!, { stock: 3, lowStockThreshold: 2 });
  await call(shop!.socket, 'cart:add', { productId: p.id, quantity: 1 });
  const { checkoutId } = await call(shop!.socket, 'cart:checkout', { idempotencyKey: randomUUID() });
  expect(await h.q(`SELECT 1 FROM orders WHERE checkout_id = $1`, [checkoutId])).toHaveLength(1);
  expect((await call(shop!.socket, 'products:get', { id: p.id })).stock).toBe(2);
  const told = (await call(staff!.socket, 'notifications:list', { kind: 'stock.low' })).items.filter((n) => n.link?.id === p.id);
  expect(told).toHaveLength(1);
});
