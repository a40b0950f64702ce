import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import type { ResultOf } from '../protocol/index.js';
import { statementsOf, type Statement } from './support/statements.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { key, makeProduct, openVendors } from './support/ordering.js';
import { subscribeBrowser } from './support/webpush.js';

let h: Harness;
let shop: Session;
let staff: Session[];
let vendorIds: string[];
let admin: Session;

beforeAll(async () => {
  h = await startHarness();
  admin = await h.login('admin@demo.lilium');
  staff = await Promise.all([1, 2].map((i) => h.login(`vendor${i}@demo.lilium`)));
  vendorIds = await Promise.all(staff.map(async (s) => (await call(s.socket, 'me:get', {})).vendorId!));
  await openVendors(h, admin, vendorIds);
  shop = await h.login('shop1@demo.lilium');
  for (const s of staff) await subscribeBrowser(s);
});
afterAll(() => h.close());

/** Fills the cart with `perVendor` lines of each vendor and checks it out; answers the checkout and its transaction's statements. */
async function checkoutOf(perVendor: number) {
  await call(shop.socket, 'cart:clear', {});
  for (const s of staff) {
    for (let i = 0; i < perVendor; i++) await call(shop.socket, 'cart:add', { productId: (await makeProduct(h, s, { stock: 50 })).id, quantity: 2 });
  }
  let answer: ResultOf<'cart:checkout'> | undefined;
  const statements = await statementsOf(async () => {
    answer = await call(shop.socket, 'cart:checkout', { idempotencyKey: key() });
  });
  const transaction = committed(statements);
  return { answer: answer!, transaction: transaction.map((s) => s.sql.trim()), trips: transaction.map((s) => s.trip) };
}

/**
 * The checkout's transaction that committed: its connection's statements from the BEGIN before its idempotency key's
 * last claim (a checkout that runs again claims it again) to the COMMIT; and how many times the key was claimed.
 */
function committed(statements: Statement[]): Statement[] & { runs: number } {
  const claims = statements.filter((s) => s.sql.includes('INSERT INTO idempotency_keys'));
  const claim = claims.at(-1)!;
  const own = statements.filter((s) => s.client === claim.client);
  const at = own.indexOf(claim);
  const begin = own.findLastIndex((s, i) => i <= at && s.sql.trim() === 'BEGIN');
  const commit = own.findIndex((s, i) => i >= at && s.sql.trim() === 'COMMIT');
  return Object.assign(own.slice(begin, commit + 1), { runs: claims.length });
}

test('a two-vendor checkout is one transaction of a fixed number of statements, whatever its lines', async () => {
  const one = await checkoutOf(1);
  const three = await checkoutOf(3);
  expect(one.answer.orders).toHaveLength(2);
  expect(three.answer.orders.map((o) => o.items.length)).toEqual([3, 3]);
  // At most: BEGIN, its plan mode (db/tx.ts), session, key, cart lock, target and pricing, orders, notifications, stock,
  // the held writes (every job, push and delivery row and the key's result), COMMIT; in five round trips: BEGIN and its
  // plan mode with the session check and the key, the cart lock with the pricing read, the orders, the notifications
  // with the stock, the held writes with COMMIT.
  expect(one.transaction.length).toBeLessThanOrEqual(11);
  expect(new Set(one.trips).size).toBeLessThanOrEqual(5);
  expect(three.transaction).toEqual(one.transaction);
  // The stock goes with the COMMIT, behind nothing but the held writes: its product rows stay locked only while the commit runs.
  const last = one.transaction.filter((_, i) => one.trips[i] === one.trips.at(-1));
  expect(last.map((s) => (s.includes('UPDATE products p SET stock') ? 'stock' : s.startsWith('WITH w0') ? 'held' : s))).toEqual(['stock', 'held', 'COMMIT']);
});

test('the orders a checkout answers and pushes, built from what it wrote, are the orders as read back', async () => {
  await call(shop.socket, 'cart:clear', {});
  for (const s of staff) await call(shop.socket, 'cart:add', { productId: (await makeProduct(h, s, { stock: 50 })).id, quantity: 3 });
  const pushed = h.next(staff[0]!.socket, 'order:new');
  const { orders } = await call(shop.socket, 'cart:checkout', { idempotencyKey: key(), note: 'in memory' });
  for (const o of orders) expect(await call(shop.socket, 'orders:get', { id: o.id })).toEqual(o);
  expect((await pushed).data).toEqual(orders.find((o) => o.vendorId === vendorIds[0]));
});

test('the cart left after checking out one vendor, pushed to the owner, is the cart as read back', async () => {
  await call(shop.socket, 'cart:clear', {});
  for (const s of staff) await call(shop.socket, 'cart:add', { productId: (await makeProduct(h, s, { stock: 50 })).id, quantity: 1 });
  const device = await h.login('shop1@demo.lilium');
  const left = h.next(device.socket, 'cart:updated');
  await call(shop.socket, 'cart:checkout', { idempotencyKey: key(), vendorIds: [vendorIds[0]!] });
  const cart = await call(shop.socket, 'cart:get', {});
  expect(cart.groups.map((g) => g.vendor.id)).toEqual([vendorIds[1]]);
  expect(await left).toEqual(cart);
});

test('a two-vendor checkout keeps its first deadline on its own row, queueing no job for it, and one delivery job for all its deliveries', async () => {
  await call(shop.socket, 'cart:clear', {});
  for (const s of staff) await call(shop.socket, 'cart:add', { productId: (await makeProduct(h, s, { stock: 50 })).id, quantity: 1 });
  // The second vendor's window shorter than the first's: the checkout's deadline is the first of its orders'.
  await call(admin.socket, 'vendors:update', { id: vendorIds[1]!, acceptanceWindowS: 600 });
  const { checkoutId, orders } = await call(shop.socket, 'cart:checkout', { idempotencyKey: key() });
  await call(admin.socket, 'vendors:update', { id: vendorIds[1]!, acceptanceWindowS: null });
  const ids = orders.map((o) => o.id).sort();
  const [checkoutRow] = await h.q<{ deadline_at: Date }>(`SELECT deadline_at FROM checkouts WHERE id = $1`, [checkoutId]);
  expect(checkoutRow!.deadline_at.toISOString()).toBe(orders.find((o) => o.vendorId === vendorIds[1])!.acceptBy);
  expect(orders.find((o) => o.vendorId === vendorIds[0])!.acceptBy! > checkoutRow!.deadline_at.toISOString()).toBe(true);
  expect(await h.q(`SELECT 1 FROM pgboss.job WHERE name = 'order-deadline'`)).toEqual([]);
  const deliveries = await h.q<{ job_id: string }>(
    `SELECT d.job_id FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id WHERE n.link_id = ANY($1::uuid[])`,
    [ids],
  );
  expect(deliveries.length).toBeGreaterThanOrEqual(2);
  expect(new Set(deliveries.map((d) => d.job_id)).size).toBe(1);
});

test('however many notices a checkout makes, its delivery rows are one insert in its held statement', async () => {
  await call(shop.socket, 'cart:clear', {});
  // Three products of one vendor, each falling to its threshold: three stock.low notices beside order.new.
  for (let i = 0; i < 3; i++)
    await call(shop.socket, 'cart:add', { productId: (await makeProduct(h, staff[0]!, { stock: 3, lowStockThreshold: 2 })).id, quantity: 1 });
  const statements = await statementsOf(async () => {
    await call(shop.socket, 'cart:checkout', { idempotencyKey: key() });
  });
  // Products falling to their threshold: the checkout ran again, its stock answered, and that run committed.
  const transaction = committed(statements);
  expect(transaction.runs).toBe(2);
  const held = transaction.filter((s) => s.sql.includes('INSERT INTO notification_deliveries'));
  expect(held).toHaveLength(1);
  expect(held[0]!.sql.split('INSERT INTO notification_deliveries').length - 1).toBe(1);
  // The checkout's rows share its transaction's now().
  const rows = await h.q<{ kind: string; n: number }>(
    `SELECT n.kind, count(*)::int AS n FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
      WHERE d.user_id = $1 AND d.created_at = (SELECT max(created_at) FROM notification_deliveries WHERE user_id = $1) GROUP BY n.kind ORDER BY n.kind`,
    [staff[0]!.userId],
  );
  expect(rows).toEqual([
    { kind: 'order.new', n: 1 },
    { kind: 'stock.low', n: 3 },
  ]);
});
