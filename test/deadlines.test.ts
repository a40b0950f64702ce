import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { runDeadline } from '../server/orders/deadlines.js';
import { fails, rejection } from './support/expect.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { placeOrder } from './support/delivery.js';
import { key, makeProduct, openVendors } from './support/ordering.js';

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

  test('an accept and an expiry in the same instant: exactly one wins, cleanly', async () => {
    const p = await makeProduct(h, staff, { stock: 100 });
    const orders = [];
    for (let i = 0; i < 12; i++) orders.push(await placeOrder(shop, p.id, 2));
    const outcomes = await Promise.all(
      orders.map(async (o, i) => {
        // Every other expiry starts a little later, so that some find the accept already in flight and some do not;
        // whoever comes first, the outcome must be one or the other, whole.
        const [accept] = await Promise.allSettled([
          call(staff.socket, 'order:accept', { orderId: o.id }),
          new Promise((r) => (i % 2 ? setTimeout(r, i) : r(null))).then(() => runDeadline(h.app.deps, { orderId: o.id, step: 'expire' }, `race-${o.id}`)),
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
