import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import type { Order } from '../protocol/ordering.js';
import { statementsOf, tripsOf } from './support/statements.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { placeOrder } from './support/delivery.js';
import { key, makeProduct, openVendors } from './support/ordering.js';

let h: Harness;
let staff: Session, shop: Session, driver: Session;

beforeAll(async () => {
  h = await startHarness();
  const admin = await h.login('admin@demo.lilium');
  [staff, shop, driver] = (await Promise.all(['vendor1@demo.lilium', 'shop1@demo.lilium', 'driver1@demo.lilium'].map((e) => h.login(e)))) as [
    Session,
    Session,
    Session,
  ];
  await openVendors(h, admin, [(await call(staff.socket, 'me:get', {})).vendorId!]);
  await call(driver.socket, 'driver:availability', { available: true });
});
afterAll(() => h.close());

// The order's full read (its row with items and timeline); the lock is a statement of its own.
const fullReads = (statements: Array<{ sql: string }>) => statements.filter((s) => /FROM orders o JOIN vendors v ON v\.id = o\.vendor_id/.test(s.sql)).length;

test('each order step reads the order once, and what it pushes and answers is what orders:get reads afterwards', async () => {
  const product = await makeProduct(h, staff, { stock: 50 });
  const order = await placeOrder(shop, product.id);
  const pushed: Order[] = [];
  shop.socket.on('order:updated', (e) => e.data.id === order.id && pushed.push(e.data));
  const steps: Array<[string, () => Promise<Order>]> = [
    ['accept', () => call(staff.socket, 'order:accept', { orderId: order.id })],
    ['prepare', () => call(staff.socket, 'order:prepare', { orderId: order.id })],
    ['assign', () => call(staff.socket, 'delivery:assign', { orderId: order.id, driverId: driver.userId })],
    ['on the way', () => call(driver.socket, 'delivery:status', { orderId: order.id, status: 'ON_THE_WAY' })],
  ];
  for (const [name, step] of steps) {
    let answered!: Order;
    const statements = await statementsOf(async () => (answered = await step()));
    expect({ name, reads: fullReads(statements) }).toEqual({ name, reads: 1 });
    const read = await call(shop.socket, 'orders:get', { id: order.id });
    expect(answered).toEqual(read);
    while (pushed.length === 0 || pushed.at(-1)!.timeline.length !== read.timeline.length) await new Promise((r) => setTimeout(r, 5));
    expect(pushed.at(-1)).toEqual(read);
  }
  const read = await call(shop.socket, 'orders:get', { id: order.id });
  expect(read.status).toBe('ON_THE_WAY');
  expect(read.driverId).toBe(driver.userId);
  expect(read.eta).not.toBeNull();
  const { code } = await call(shop.socket, 'delivery:code', { orderId: order.id });
  const done = await call(driver.socket, 'delivery:status', { orderId: order.id, status: 'DELIVERED', code });
  expect(done).toEqual(await call(shop.socket, 'orders:get', { id: order.id }));
  expect(done.deliveredAt).not.toBeNull();
});

test('an order step sends its session check with the order’s lock and read, in few round trips', async () => {
  const product = await makeProduct(h, staff, { stock: 50 });
  const order = await placeOrder(shop, product.id);
  const opening = ['BEGIN', 'SET LOCAL plan_cache_mode =', 'SELECT CASE WHEN EXISTS'];
  const lockAndRead = [...opening, 'SELECT 1 FROM orders', 'SELECT o.id, o.number, o.checkout_id,'];
  let code = '';
  let total = 0;
  // Each step: BEGIN with the plan mode, the session check, the lock and the read (and what the step reads beside the
  // order); the UPDATE with its timeline entry; the notification, when someone hears of it; the held writes with
  // COMMIT. Delivering checks the shop's code under the lock (a wrong one is counted in the same transaction, which
  // commits before the refusal). Collecting the cash claims its key in the first trip, then locks and reads, posts with the reads the
  // notification needs, books the cash, notifies, commits.
  const steps: Array<[string, number, string[], () => Promise<unknown>]> = [
    ['accept', 4, lockAndRead, () => call(staff.socket, 'order:accept', { orderId: order.id })],
    ['prepare', 3, lockAndRead, () => call(staff.socket, 'order:prepare', { orderId: order.id })],
    ['assign', 4, [...lockAndRead, 'SELECT 1 FROM users'], () => call(staff.socket, 'delivery:assign', { orderId: order.id, driverId: driver.userId })],
    ['on the way', 4, lockAndRead, () => call(driver.socket, 'delivery:status', { orderId: order.id, status: 'ON_THE_WAY' })],
    ['deliver', 4, lockAndRead, async () => (total = (await call(driver.socket, 'delivery:status', { orderId: order.id, status: 'DELIVERED', code })).total)],
    [
      'collect',
      6,
      [...opening, 'INSERT INTO idempotency_keys (user_id,'],
      () => call(driver.socket, 'cash:collect', { orderId: order.id, amount: total, idempotencyKey: key() }),
    ],
  ];
  for (const [name, trips, first, step] of steps) {
    if (name === 'assign') {
      // Offering drivers reads the order and who may carry it in one statement, outside a transaction.
      const offered = await statementsOf(() => call(staff.socket, 'drivers:available', { orderId: order.id }));
      expect(offered.filter((s) => /\borders\b/.test(s.sql))).toHaveLength(1);
    }
    if (name === 'deliver') code = (await call(shop.socket, 'delivery:code', { orderId: order.id })).code;
    expect({ name, ...(await tripsOf(step)) }).toEqual({ name, trips, first });
  }
  expect((await call(shop.socket, 'orders:get', { id: order.id })).status).toBe('DELIVERED');
});
