import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { CheckoutDeadlines1764200800000 } from '../db/migrations/1764200800000-checkout-deadlines.js';
import { sweepDeadlines } from '../server/orders/deadlines.js';
import { LockHolder } from './support/lock-holder.js';
import { fails, rejection } from './support/expect.js';
import { downAndUp } from './support/migrations.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { placeOrder } from './support/delivery.js';
import { key, makeProduct, openVendors } from './support/ordering.js';
import { until as waitFor } from './support/until.js';

// Windows of seconds so the test sees them pass; the bounds must still put expiry after every window.
const env = { ACCEPTANCE_WINDOW_MIN_S: '1', ACCEPTANCE_WINDOW_S: '2', ACCEPTANCE_WINDOW_MAX_S: '3', ORDER_EXPIRY_S: '4', JOBS_POLL_MS: '500' };
const hour = 3600_000;

let h: Harness;
let admin: Session, manager: Session, staff: Session, shop: Session;
let vendorId: string;

async function signIn(): Promise<void> {
  [admin, manager, staff, shop] = (await Promise.all(
    ['admin@demo.lilium', 'manager1@demo.lilium', 'vendor1@demo.lilium', 'shop1@demo.lilium'].map((e) => h.login(e)),
  )) as [Session, Session, Session, Session];
}

beforeAll(async () => {
  h = await startHarness({ env: { ...env, RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_S: '100000' } });
  await signIn();
  vendorId = (await call(staff.socket, 'me:get', {})).vendorId!;
  await openVendors(h, admin, [vendorId]);
});
afterAll(() => h.close());

/** Waits (bounded) until the query answers a row. */
async function until<T>(sql: string, params: unknown[], timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await h.q<T>(sql, params);
    if (row) return row;
    if (Date.now() > deadline) throw new Error(`nothing for ${sql} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const kindsFor = async (userId: string, orderId: string) =>
  (await h.q<{ kind: string }>(`SELECT kind FROM notifications WHERE user_id = $1 AND link_id = $2 ORDER BY created_at, id`, [userId, orderId])).map(
    (r) => r.kind,
  );
/**
 * Moves the orders' clocks so that their checkouts' next step is due now: an escalation (the expiry an hour ahead, out of
 * the background sweep's way), or (escalated already) the expiry.
 */
async function makeDue(orderIds: string[], step: 'escalate' | 'expire'): Promise<void> {
  const past = `now() - interval '1 second'`;
  await h.q(
    step === 'escalate'
      ? `UPDATE orders SET accept_by = ${past}, expire_at = now() + interval '1 hour' WHERE id = ANY($1::uuid[])`
      : `UPDATE orders SET accept_by = ${past}, escalated_at = ${past}, expire_at = ${past} WHERE id = ANY($1::uuid[])`,
    [orderIds],
  );
  await h.q(`UPDATE checkouts SET deadline_at = ${past} WHERE id IN (SELECT checkout_id FROM orders WHERE id = ANY($1::uuid[]))`, [orderIds]);
}

const stockOf = async (id: string) => (await h.q<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [id]))[0]!.stock;

describe('acceptance windows', () => {
  test('a manager sets the window within the deployment’s bounds; null returns to the default; new orders carry their deadlines', async () => {
    await fails(call(manager.socket, 'vendors:update', { id: vendorId, acceptanceWindowS: 4 }), 'BAD_REQUEST', {
      field: 'acceptanceWindowS',
      min: 1,
      max: 3,
    });
    expect(await call(manager.socket, 'vendors:update', { id: vendorId, acceptanceWindowS: 3 })).toMatchObject({
      acceptanceWindowS: 3,
      acceptanceWindowDefault: false,
    });
    const p = await makeProduct(h, staff);
    const order = await placeOrder(shop, p.id);
    expect(Date.parse(order.acceptBy!) - Date.parse(order.createdAt)).toBe(3000);
    expect(Date.parse(order.expireAt!) - Date.parse(order.createdAt)).toBe(4000);
    expect(await call(manager.socket, 'vendors:update', { id: vendorId, acceptanceWindowS: null })).toMatchObject({
      acceptanceWindowS: 2,
      acceptanceWindowDefault: true,
    });
    await call(staff.socket, 'order:accept', { orderId: order.id });
  });
});

describe('escalation and expiry', () => {
  test('an unaccepted order escalates once, then expires on time across a node restart, giving back stock and coupon use', async () => {
    const p = await makeProduct(h, staff, { stock: 10 });
    const code = `LATE${Math.random().toString(36).slice(2, 7).toUpperCase()}`;
    const { promotion } = await call(manager.socket, 'promotions:create', {
      name: { ar: 'عرض', en: 'Late' },
      kind: 'FIXED',
      amount: 100,
      productIds: [p.id],
      couponCode: code,
      usageLimit: 5,
      startsAt: new Date(Date.now() - hour).toISOString(),
      endsAt: new Date(Date.now() + hour).toISOString(),
    });
    await call(shop.socket, 'cart:clear', {});
    await call(shop.socket, 'cart:add', { productId: p.id, quantity: 3 });
    await call(shop.socket, 'cart:coupon', { code });
    const [order] = (await call(shop.socket, 'cart:checkout', { idempotencyKey: key() })).orders;
    expect(order!.promotion?.id).toBe(promotion.id);
    expect(await stockOf(p.id)).toBe(7);

    await h.restart();
    await signIn();

    const expired = await until<{ escalated_at: Date; accept_by: Date; expire_at: Date; expired_at: Date }>(
      `SELECT o.escalated_at, o.accept_by, o.expire_at, e.at AS expired_at FROM orders o JOIN order_events e ON e.order_id = o.id AND e.status = 'EXPIRED'
        WHERE o.id = $1 AND o.status = 'EXPIRED'`,
      [order!.id],
    );
    expect(expired.escalated_at.getTime()).toBeGreaterThanOrEqual(expired.accept_by.getTime());
    expect(expired.expired_at.getTime()).toBeGreaterThanOrEqual(expired.expire_at.getTime());
    expect(await stockOf(p.id)).toBe(10);
    expect((await h.q<{ used_count: number }>('SELECT used_count FROM promotions WHERE id = $1', [promotion.id]))[0]!.used_count).toBe(0);
    expect(await kindsFor(manager.userId, order!.id)).toEqual(['order.new', 'order.overdue']);
    expect(await kindsFor(admin.userId, order!.id)).toEqual(['order.overdue']);
    expect(await kindsFor(staff.userId, order!.id)).toEqual(['order.new']);
    expect(await kindsFor(shop.userId, order!.id)).toEqual(['order.expired']);

    expect(await rejection(call(staff.socket, 'order:accept', { orderId: order!.id }))).toMatchObject({
      code: 'INVALID_TRANSITION',
      details: { from: 'EXPIRED', to: 'ACCEPTED' },
    });
    const today = new Date();
    const stats = await call(manager.socket, 'vendors:stats', {
      id: vendorId,
      from: new Date(today.getTime() - hour).toISOString(),
      to: new Date(today.getTime() + hour).toISOString(),
    });
    expect(stats.byStatus.EXPIRED).toBeGreaterThanOrEqual(1);
    expect(stats.expiryRate).toBe(stats.byStatus.EXPIRED! / stats.orders);
  });

  test('a sweep expiring a two-vendor checkout takes its products in the order a checkout does: the two never deadlock', async () => {
    const staff2 = await h.login('vendor2@demo.lilium');
    await openVendors(h, admin, [(await call(staff2.socket, 'me:get', {})).vendorId!]);
    // Checkouts until the order of lower id holds the product of higher id: restocked order by order, the sweep
    // would lock that product first, then wait for the other, which a checkout locks first.
    let placed: { orders: string[]; first: string; second: string } | undefined;
    while (!placed) {
      const products = [await makeProduct(h, staff, { stock: 10 }), await makeProduct(h, staff2, { stock: 10 })];
      await call(shop.socket, 'cart:clear', {});
      for (const p of products) await call(shop.socket, 'cart:add', { productId: p.id, quantity: 2 });
      const orders = (await call(shop.socket, 'cart:checkout', { idempotencyKey: key() })).orders.sort((a, b) => (a.id < b.id ? -1 : 1));
      const [first, second] = orders.map((o) => o.items[0]!.productId) as [string, string];
      if (first > second) placed = { orders: orders.map((o) => o.id), first, second };
    }
    const checkout = await LockHolder.open(h);
    await checkout.query('BEGIN');
    await checkout.query('SELECT 1 FROM products WHERE id = $1 FOR NO KEY UPDATE', [placed.second]);
    await makeDue(placed.orders, 'expire');
    const swept = sweepDeadlines(h.app.deps);
    await waitFor(async () => (await checkout.waiters()) === 1);
    await checkout.query('SELECT 1 FROM products WHERE id = $1 FOR NO KEY UPDATE', [placed.first]);
    await checkout.query('COMMIT');
    await swept;
    await until(`SELECT 1 FROM orders WHERE id = ANY($1::uuid[]) HAVING bool_and(status = 'EXPIRED')`, [placed.orders]);
    expect([await stockOf(placed.first), await stockOf(placed.second)]).toEqual([10, 10]);
    const [{ checkout_id: checkoutId }] = (await h.q<{ checkout_id: string }>('SELECT checkout_id FROM orders WHERE id = $1', [placed.orders[0]])) as [
      { checkout_id: string },
    ];
    expect(h.logs.filter((l) => l.checkoutId === checkoutId)).toEqual([]);
  });

  test('sweeps at once on several nodes run each deadline once and move each checkout on to its next', async () => {
    const p = await makeProduct(h, staff, { stock: 100 });
    const orders = [];
    for (let i = 0; i < 6; i++) orders.push(await placeOrder(shop, p.id));
    const ids = orders.map((o) => o.id);
    await makeDue(ids, 'escalate');
    await Promise.all([1, 2, 3, 4].map(() => sweepDeadlines(h.app.deps)));
    for (const id of ids) expect(await kindsFor(manager.userId, id)).toEqual(['order.new', 'order.overdue']);
    const rows = await h.q<{ status: string; next: boolean }>(
      `SELECT o.status, c.deadline_at = o.expire_at AS next FROM orders o JOIN checkouts c ON c.id = o.checkout_id WHERE o.id = ANY($1::uuid[])`,
      [ids],
    );
    expect(rows).toEqual(ids.map(() => ({ status: 'PENDING', next: true })));
    for (const id of ids) await call(staff.socket, 'order:accept', { orderId: id });
  });

  test('a checkout whose deadlines fail is put back and tried again later, holding up no other', async () => {
    const p = await makeProduct(h, staff, { stock: 10 });
    const [stuck, other] = [await placeOrder(shop, p.id), await placeOrder(shop, p.id)];
    await makeDue([stuck.id, other.id], 'expire');
    // The stuck one is due first, and its expiry fails in the database (a trigger stands in for a row gone from under it).
    await h.q(`UPDATE checkouts SET deadline_at = deadline_at - interval '1 minute' WHERE id = $1`, [stuck.checkoutId]);
    await h.q(`CREATE FUNCTION test_refuse_expiry() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$`);
    await h.q(`CREATE TRIGGER test_refuse_expiry BEFORE UPDATE ON orders FOR EACH ROW WHEN (OLD.id = '${stuck.id}') EXECUTE FUNCTION test_refuse_expiry()`);
    try {
      await sweepDeadlines(h.app.deps);
      // This sweep or the node's own (which may hold it a moment longer) expires the other.
      await until(`SELECT 1 FROM orders WHERE id = $1 AND status = 'EXPIRED'`, [other.id]);
      const rows = await h.q<{ id: string; status: string; later: boolean }>(
        `SELECT o.id, o.status, c.deadline_at > now() + interval '5 seconds' AS later FROM orders o JOIN checkouts c ON c.id = o.checkout_id
          WHERE o.id = ANY($1::uuid[])`,
        [[stuck.id, other.id]],
      );
      expect(rows.find((r) => r.id === other.id)).toMatchObject({ status: 'EXPIRED' });
      expect(rows.find((r) => r.id === stuck.id)).toMatchObject({ status: 'PENDING', later: true });
    } finally {
      await h.q(`DROP TRIGGER test_refuse_expiry ON orders`);
      await h.q(`DROP FUNCTION test_refuse_expiry()`);
    }
    await makeDue([stuck.id], 'expire');
    await sweepDeadlines(h.app.deps);
    expect((await h.q<{ status: string }>(`SELECT status FROM orders WHERE id = $1`, [stuck.id]))[0]!.status).toBe('EXPIRED');
  });

  test('a deadline job an older version queued puts its orders’ checkout on the sweep', async () => {
    const p = await makeProduct(h, staff, { stock: 10 });
    const order = await placeOrder(shop, p.id);
    // As an older node writes a checkout: no deadline on its row, a job for its orders.
    await h.q(`UPDATE checkouts SET deadline_at = NULL WHERE id = $1`, [order.checkoutId]);
    await h.app.deps.jobs.send(null, 'order-deadline', { orderIds: [order.id] });
    const row = await until<{ deadline_at: Date; accept_by: Date }>(
      `SELECT c.deadline_at, o.accept_by FROM checkouts c JOIN orders o ON o.checkout_id = c.id WHERE o.id = $1 AND c.deadline_at IS NOT NULL`,
      [order.id],
    );
    expect(row.deadline_at).toEqual(row.accept_by);
    await call(staff.socket, 'order:accept', { orderId: order.id });
  });

  test('an accept and an expiry in the same instant: exactly one wins, cleanly', async () => {
    const p = await makeProduct(h, staff, { stock: 100 });
    const orders = [];
    for (let i = 0; i < 12; i++) orders.push(await placeOrder(shop, p.id, 2));
    await makeDue(
      orders.map((o) => o.id),
      'expire',
    );
    const outcomes = await Promise.all(
      orders.map(async (o, i) => {
        // Every other sweep starts a little later, so that some find the accept already in flight and some do not;
        // whoever comes first, the outcome must be one or the other, whole.
        const [accept] = await Promise.allSettled([
          call(staff.socket, 'order:accept', { orderId: o.id }),
          new Promise((r) => (i % 2 ? setTimeout(r, i) : r(null))).then(() => sweepDeadlines(h.app.deps)),
        ]);
        const [row] = await h.q<{ status: string }>('SELECT status FROM orders WHERE id = $1', [o.id]);
        return { id: o.id, accepted: accept.status === 'fulfilled', status: row!.status, error: accept.status === 'rejected' ? accept.reason : null };
      }),
    );
    for (const o of outcomes) {
      if (o.accepted) expect(o.status).toBe('ACCEPTED');
      else {
        expect(o.status).toBe('EXPIRED');
        expect(o.error).toMatchObject({ code: 'INVALID_TRANSITION', details: { from: 'EXPIRED', to: 'ACCEPTED' } });
      }
      expect((await kindsFor(shop.userId, o.id)).filter((k) => k === 'order.accepted' || k === 'order.expired')).toEqual([
        o.accepted ? 'order.accepted' : 'order.expired',
      ]);
    }
    const expiredCount = outcomes.filter((o) => !o.accepted).length;
    expect(await stockOf(p.id)).toBe(100 - 2 * orders.length + 2 * expiredCount);
  });
});

test('the migration gives the orders still pending their checkout’s deadline and drops the jobs queued for them before', async () => {
  const p = await makeProduct(h, staff, { stock: 10 });
  const pending = await placeOrder(shop, p.id);
  const accepted = await placeOrder(shop, p.id);
  await call(staff.socket, 'order:accept', { orderId: accepted.id });
  const { jobs } = h.app.deps;
  await jobs.define('order-deadline');
  await jobs.send(null, 'order-deadline', { orderIds: [pending.id] }, { startAfter: new Date(Date.now() + hour) });
  await downAndUp(h, [new CheckoutDeadlines1764200800000()]);
  const rows = await h.q<{ id: string; deadline: Date | null; accept_by: Date }>(
    `SELECT o.id, c.deadline_at AS deadline, o.accept_by FROM orders o JOIN checkouts c ON c.id = o.checkout_id WHERE o.id = ANY($1::uuid[])`,
    [[pending.id, accepted.id]],
  );
  expect(rows.find((r) => r.id === pending.id)!.deadline).toEqual(rows.find((r) => r.id === pending.id)!.accept_by);
  expect(rows.find((r) => r.id === accepted.id)!.deadline).toBeNull();
  expect(await h.q(`SELECT 1 FROM pgboss.job WHERE name = 'order-deadline'`)).toEqual([]);
  await call(staff.socket, 'order:accept', { orderId: pending.id });
});
