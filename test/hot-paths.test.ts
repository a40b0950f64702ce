import { afterAll, beforeAll, expect, test } from 'vitest';
import { sql } from '../db/sql.js';
import { call } from '../protocol/client.js';
import { rejection } from './support/expect.js';
import { statementsOf, tripsOf } from './support/statements.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { deliver, placeOrder } from './support/delivery.js';
import { key, makeProduct, openVendors } from './support/ordering.js';

let h: Harness;
let other: string;
let admin: Session, staff: Session, shop: Session;

beforeAll(async () => {
  h = await startHarness({ redis: true });
  other = (await h.spawnNode()).url;
  [admin, staff, shop] = (await Promise.all(['admin@demo.lilium', 'vendor1@demo.lilium', 'shop1@demo.lilium'].map((e) => h.login(e)))) as [
    Session,
    Session,
    Session,
  ];
  await openVendors(h, admin, [(await call(staff.socket, 'me:get', {})).vendorId!]);
});
afterAll(() => h.close());

test('the category tree is served from Redis and a change on another node invalidates it everywhere', async () => {
  const cache = h.app.deps.cache;
  const first = await call(shop.socket, 'categories:tree', {});
  const hits = cache.hits;
  expect(await call(shop.socket, 'categories:tree', {})).toEqual(first);
  expect(cache.hits).toBe(hits + 1);

  const remoteAdmin = await h.login('admin@demo.lilium', { url: other });
  const made = await call(remoteAdmin.socket, 'categories:create', { name: { ar: 'مخبوزات', en: 'Bakery cached' } });
  expect((await call(shop.socket, 'categories:tree', {})).items.map((c) => c.id)).toContain(made.id);

  const remoteStaff = await h.login('vendor1@demo.lilium', { url: other });
  // zoneIds left out: sold wherever the vendor serves, whatever zones other tests have added.
  await makeProduct(h, remoteStaff, { categoryId: made.id, zoneIds: undefined });
  const counted = (await call(shop.socket, 'categories:tree', {})).items.find((c) => c.id === made.id)!;
  expect(counted.productCount).toBe(1);
});

const BIG = ['products', 'orders', 'order_items', 'outbox', 'stock_history', 'ledger_entries', 'cart_items', 'product_zones', 'order_events', 'notifications'];

function seqScans(plan: Record<string, unknown>): string[] {
  const here = plan['Node Type'] === 'Seq Scan' && BIG.includes(String(plan['Relation Name'])) ? [String(plan['Relation Name'])] : [];
  return [...here, ...((plan.Plans as Record<string, unknown>[] | undefined) ?? []).flatMap(seqScans)];
}

test('the hot reads can all use an index on PostgreSQL: no sequential scan of a growing table', async () => {
  const product = await makeProduct(h, staff, { zoneIds: undefined });
  const order = await placeOrder(shop, product.id);
  const driver = await h.login('driver2@demo.lilium');
  await call(driver.socket, 'driver:availability', { available: true });
  await deliver(staff, driver, shop, order.id);
  await call(driver.socket, 'cash:collect', { orderId: order.id, amount: order.total, idempotencyKey: key() });

  const statements = await statementsOf(async () => {
    await call(shop.socket, 'products:list', { limit: 20 });
    await call(shop.socket, 'products:list', { q: 'rice', limit: 20 });
    await call(shop.socket, 'products:get', { id: product.id });
    await call(shop.socket, 'cart:add', { productId: product.id, quantity: 1 });
    await call(shop.socket, 'cart:get', {});
    await call(shop.socket, 'orders:list', {});
    await call(staff.socket, 'orders:list', { status: 'PENDING' });
    await call(staff.socket, 'orders:get', { id: order.id });
    await call(staff.socket, 'feed:sync', { afterSeq: 0, limit: 100 });
    await call(staff.socket, 'stock:history', { productId: product.id });
    await call(staff.socket, 'finance:vendor-balance', { vendorId: product.vendorId });
    await call(staff.socket, 'notifications:list', {});
    await call(staff.socket, 'notifications:list', { unread: true });
    await call(staff.socket, 'notifications:list', { kind: 'order.new' });
    await call(staff.socket, 'notifications:unread-count', {});
  });
  const reads = statements.filter((s) => /^\s*(SELECT|WITH)/i.test(s.sql) && !/FOR UPDATE/i.test(s.sql));
  expect(reads.length).toBeGreaterThan(10);

  const db = h.app.deps.db;
  const offenders: string[] = [];
  await db.tx(async (tx) => {
    // The demo tables are small enough that a sequential scan is cheapest; forbid it to see whether an index serves the query.
    await tx.query(sql`SET LOCAL enable_seqscan = off`);
    for (const s of reads) {
      // The statements as the node sent them: text and parameters, replayed as they are.
      const [row] = (await tx.query(sql.numbered(`EXPLAIN (FORMAT JSON) ${s.sql}`, s.params))) as Array<{
        'QUERY PLAN': Array<{ Plan: Record<string, unknown> }>;
      }>;
      const scans = seqScans(row!['QUERY PLAN'][0]!.Plan);
      if (scans.length) offenders.push(`${scans.join(', ')} ← ${s.sql.replace(/\s+/g, ' ').slice(0, 160)}`);
    }
  });
  expect(offenders).toEqual([]);
});

test('me:get and cart:get are one statement each, whatever the cart holds', async () => {
  const vendor2 = await h.login('vendor2@demo.lilium');
  await openVendors(h, admin, [(await call(vendor2.socket, 'me:get', {})).vendorId!]);
  for (const staffOf of [staff, vendor2]) {
    const product = await makeProduct(h, staffOf, { zoneIds: undefined });
    await call(shop.socket, 'cart:add', { productId: product.id, quantity: 1 });
  }
  // Background work (the sequencer's poll, the job queue) may run meanwhile; it touches none of these tables.
  const me = await statementsOf(() => call(shop.socket, 'me:get', {}));
  expect(me.filter((s) => /\busers\b/.test(s.sql))).toHaveLength(1);
  let cart: Awaited<ReturnType<typeof call<'cart:get'>>> | undefined;
  const statements = await statementsOf(async () => (cart = await call(shop.socket, 'cart:get', {})));
  expect(cart!.groups.length).toBeGreaterThanOrEqual(2);
  expect(statements.filter((s) => /\b(carts|cart_items|shops|addresses|promotions|categories)\b/.test(s.sql)).length).toBe(1);
});

test('a cart change is three round trips: the session check, the lock and the change; the cart read; COMMIT', async () => {
  const product = await makeProduct(h, staff, { zoneIds: undefined });
  const opening = ['BEGIN', 'SET LOCAL plan_cache_mode =', 'SELECT CASE WHEN EXISTS', 'INSERT INTO carts (shop_id)'];
  expect(await tripsOf(() => call(shop.socket, 'cart:add', { productId: product.id, quantity: 2 }))).toEqual({
    trips: 3,
    first: [...opening, 'SELECT p.id, p.vendor_id, v.name', 'INSERT INTO cart_items (shop_id,'],
  });
  expect(await tripsOf(() => call(shop.socket, 'cart:clear', {}))).toEqual({
    trips: 3,
    first: [...opening, 'DELETE FROM cart_items WHERE', 'UPDATE carts SET coupon_code'],
  });
});

test('a product the shop cannot see is NOT_FOUND, and the line written in the same round trip is rolled back', async () => {
  const draft = await makeProduct(h, staff, { zoneIds: undefined, status: 'DRAFT' });
  const cart = await call(shop.socket, 'cart:get', {});
  const err = await rejection(call(shop.socket, 'cart:add', { productId: draft.id, quantity: 1 }));
  expect({ code: err.code, message: err.message, details: err.details }).toEqual({ code: 'NOT_FOUND', message: 'product not found', details: undefined });
  expect(await h.q('SELECT 1 FROM cart_items WHERE product_id = $1', [draft.id])).toEqual([]);
  expect(await call(shop.socket, 'cart:get', {})).toEqual(cart);
});

test('zones are served from Redis and a change on another node invalidates them everywhere', async () => {
  const before = await call(shop.socket, 'zones:list', {});
  const hits = h.app.deps.cache.hits;
  expect(await call(shop.socket, 'zones:list', {})).toEqual(before);
  expect(h.app.deps.cache.hits).toBe(hits + 1);
  const remoteSuper = await h.login('superadmin@demo.lilium', { url: other });
  const zone = await call(remoteSuper.socket, 'zones:create', { code: 'CACHED', name: { ar: 'منطقة', en: 'Cached zone' } });
  expect((await call(shop.socket, 'zones:list', {})).items.map((z) => z.id)).toContain(zone.id);
});
