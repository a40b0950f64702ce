import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { commissionOf } from '../server/finance/ledger.js';
import { LockHolder } from './support/lock-holder.js';
import { codeOf, fails } from './support/expect.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { deliver, dispatch, placeOrder } from './support/delivery.js';
import { key, makeProduct, openVendors } from './support/ordering.js';
import { until } from './support/until.js';

let h: Harness;
let admin: Session, staff1: Session, staff2: Session, shop: Session, driver2: Session, driver4: Session, driver3: Session;
let vendor1: string;

beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_S: '100000', DRIVER_LOCATION_INTERVAL_S: '3600' } });
  [admin, staff1, staff2, shop, driver2, driver4, driver3] = (await Promise.all(
    ['admin', 'vendor1', 'vendor2', 'shop1', 'driver2', 'driver4', 'driver3'].map((u) => h.login(`${u}@demo.lilium`)),
  )) as [Session, Session, Session, Session, Session, Session, Session];
  vendor1 = (await call(staff1.socket, 'me:get', {})).vendorId!;
  await openVendors(h, admin, [vendor1, (await call(staff2.socket, 'me:get', {})).vendorId!]);
  for (const d of [driver2, driver4, driver3]) await call(d.socket, 'driver:availability', { available: true });
});
afterAll(() => h.close());

const ledgerSum = async () => (await h.q<{ s: number }>('SELECT coalesce(sum(amount), 0)::bigint AS s FROM ledger_entries'))[0]!.s;

/** A fresh order on its way with driver2, the shop's code for it, and a code that is not it. */
async function onItsWay() {
  const order = await placeOrder(shop, (await makeProduct(h, staff1)).id);
  await dispatch(staff1, driver2, order.id);
  const { code } = await call(shop.socket, 'delivery:code', { orderId: order.id });
  return { order, code, wrong: code === '1111' ? '2222' : '1111' };
}

describe('delivery', () => {
  test('vendor staff see available drivers for the order’s zone and fleet; another vendor cannot assign', async () => {
    const p = await makeProduct(h, staff1);
    const order = await placeOrder(shop, p.id);
    await call(staff1.socket, 'order:accept', { orderId: order.id });
    const offered = (await call(staff1.socket, 'drivers:available', { orderId: order.id })).items.map((d) => d.id);
    expect(offered).toContain(driver2.userId);
    expect(offered).not.toContain(driver3.userId); // vendor 2's fleet
    await call(driver4.socket, 'driver:availability', { available: false });
    expect((await call(staff1.socket, 'drivers:available', { orderId: order.id })).items.map((d) => d.id)).not.toContain(driver4.userId);
    await call(driver2.socket, 'driver:availability', { available: false });
    // Nobody left to offer is an empty list, not NOT_FOUND; another vendor's staff do not find the order at all.
    expect(await call(staff1.socket, 'drivers:available', { orderId: order.id })).toEqual({ items: [] });
    for (const d of [driver2, driver4]) await call(d.socket, 'driver:availability', { available: true });
    expect(await codeOf(call(staff2.socket, 'drivers:available', { orderId: order.id }))).toBe('NOT_FOUND');

    expect(await codeOf(call(staff2.socket, 'delivery:assign', { orderId: order.id, driverId: driver2.userId }))).toBe('NOT_FOUND');
    expect(await codeOf(call(staff1.socket, 'delivery:assign', { orderId: order.id, driverId: driver3.userId }))).toBe('CONFLICT');
    // One delivery in the zone at least, and every trip there made to take 20 minutes: the ETA is 20 minutes away.
    const earlier = await placeOrder(shop, p.id);
    await deliver(staff1, driver2, shop, earlier.id);
    await h.q(`UPDATE orders SET on_the_way_at = delivered_at - interval '20 minutes' WHERE zone_id = $1 AND delivered_at IS NOT NULL`, [order.zoneId]);
    const told = h.next(driver2.socket, 'delivery:assigned', (p) => p.data.id === order.id);
    const since = Date.now();
    const assigned = await call(staff1.socket, 'delivery:assign', { orderId: order.id, driverId: driver2.userId });
    expect(assigned.driverId).toBe(driver2.userId);
    expect(Date.parse(assigned.eta!)).toBeGreaterThanOrEqual(since + 20 * 60_000 - 1000);
    expect(Date.parse(assigned.eta!)).toBeLessThanOrEqual(Date.now() + 20 * 60_000 + 1000);
    expect((await told).data.id).toBe(order.id);
  });

  test('only the assigned driver reports; delivery needs the shop’s code or an audited override', async () => {
    const p = await makeProduct(h, staff1);
    const order = await placeOrder(shop, p.id);
    await dispatch(staff1, driver2, order.id);
    expect(await codeOf(call(driver4.socket, 'delivery:status', { orderId: order.id, status: 'FAILED', reason: 'not mine' }))).toBe('NOT_FOUND');
    expect(await codeOf(call(driver4.socket, 'cash:collect', { orderId: order.id, amount: 1, idempotencyKey: key() }))).toBe('NOT_FOUND');
    // On its way: too late to give it to another driver, too early to collect.
    await fails(call(staff1.socket, 'delivery:assign', { orderId: order.id, driverId: driver4.userId, reason: 'swap' }), 'INVALID_TRANSITION', {
      status: 'ON_THE_WAY',
      allowed: ['ACCEPTED', 'PREPARING', 'FAILED'],
    });
    await fails(call(driver2.socket, 'cash:collect', { orderId: order.id, amount: order.total, idempotencyKey: key() }), 'INVALID_TRANSITION', {
      status: 'ON_THE_WAY',
      allowed: ['DELIVERED'],
    });
    const { code } = await call(shop.socket, 'delivery:code', { orderId: order.id });
    const wrong = code === '0000' ? '0001' : '0000';
    expect(await codeOf(call(driver2.socket, 'delivery:status', { orderId: order.id, status: 'DELIVERED', code: wrong }))).toBe('FORBIDDEN');
    await fails(call(driver2.socket, 'delivery:status', { orderId: order.id, status: 'DELIVERED' } as never), 'BAD_REQUEST', [
      { path: 'code', code: 'custom' },
    ]);
    const since = Date.now();
    const done = await call(driver2.socket, 'delivery:status', { orderId: order.id, status: 'DELIVERED', code });
    expect(done.status).toBe('DELIVERED');
    expect(Date.parse(done.deliveredAt!)).toBeGreaterThanOrEqual(since - 1000);
    expect(Date.parse(done.deliveredAt!)).toBeLessThanOrEqual(Date.now() + 1000);

    const other = await placeOrder(shop, p.id);
    await dispatch(staff1, driver2, other.id);
    const overridden = await call(staff1.socket, 'delivery:confirm-override', { orderId: other.id, reason: 'shop phone dead' });
    expect(overridden.status).toBe('DELIVERED');
    expect((await h.audit('DELIVERY_OVERRIDE', other.id)).length).toBe(1);
  });

  test('after five wrong codes even the right one is refused, and only the vendor confirms', async () => {
    const { order, code, wrong } = await onItsWay();
    for (let i = 0; i < 5; i++)
      expect(await codeOf(call(driver2.socket, 'delivery:status', { orderId: order.id, status: 'DELIVERED', code: wrong }))).toBe('FORBIDDEN');
    const refused = call(driver2.socket, 'delivery:status', { orderId: order.id, status: 'DELIVERED', code });
    await expect(refused).rejects.toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/too many wrong codes/) });
    expect((await call(staff1.socket, 'delivery:confirm-override', { orderId: order.id, reason: 'driver at the door' })).status).toBe('DELIVERED');
  });

  test('wrong codes sent at once are weighed one after the other: five at most, whatever order their locks are taken in', async () => {
    const { order, code, wrong } = await onItsWay();
    // The order's row held here, so every try waits on its lock: eight wrong codes, then the right one.
    const holder = await LockHolder.open(h);
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM orders WHERE id = $1 FOR UPDATE', [order.id]);
    const tries: Array<Promise<string>> = [];
    for (const sent of [...Array<string>(8).fill(wrong), code]) {
      tries.push(
        call(driver2.socket, 'delivery:status', { orderId: order.id, status: 'DELIVERED', code: sent }).then(
          (o) => o.status,
          (e: Error) => e.message,
        ),
      );
      await until(async () => (await holder.waiters()) === tries.length);
    }
    await holder.query('COMMIT');
    const answers = await Promise.all(tries);
    const [{ failures, status }] = (await h.q<{ failures: number; status: string }>('SELECT code_failures AS failures, status FROM orders WHERE id = $1', [
      order.id,
    ])) as [{ failures: number; status: string }];
    // Each try saw the count the ones before it left: the right one delivers only if fewer than five wrong ones came first,
    // and those after it find the order delivered.
    const mismatches = answers.filter((a) => a.startsWith('the confirmation code does not match')).length;
    if (status === 'DELIVERED') {
      expect(failures).toBeLessThan(5);
      expect(mismatches).toBe(failures);
    } else {
      expect({ status, failures, mismatches, last: answers.at(-1) }).toEqual({
        status: 'ON_THE_WAY',
        failures: 5,
        mismatches: 4,
        last: 'too many wrong codes for this order: the vendor confirms the delivery',
      });
    }
  });

  test('a failed delivery is re-assigned with a reason, or cancelled with its stock restored', async () => {
    const p = await makeProduct(h, staff1, { stock: 10 });
    const order = await placeOrder(shop, p.id, 4);
    await dispatch(staff1, driver2, order.id);
    await fails(call(driver2.socket, 'delivery:status', { orderId: order.id, status: 'FAILED' } as never), 'BAD_REQUEST', [{ path: 'reason', code: 'custom' }]);
    await call(driver2.socket, 'delivery:status', { orderId: order.id, status: 'FAILED', reason: 'shop closed' });
    expect(await codeOf(call(staff1.socket, 'delivery:assign', { orderId: order.id, driverId: driver4.userId }))).toBe('BAD_REQUEST');
    const lost = h.next(driver2.socket, 'order:updated', (p) => p.data.id === order.id && p.data.driverId !== driver2.userId);
    await call(staff1.socket, 'delivery:assign', { orderId: order.id, driverId: driver4.userId, reason: 'second try tomorrow' });
    expect((await lost).data.driverId).toBe(driver4.userId);
    expect(await codeOf(call(driver2.socket, 'orders:get', { id: order.id }))).toBe('NOT_FOUND');
    await call(driver4.socket, 'delivery:status', { orderId: order.id, status: 'ON_THE_WAY' });
    await call(driver4.socket, 'delivery:status', { orderId: order.id, status: 'FAILED', reason: 'closed again' });
    await call(staff1.socket, 'order:cancel', { orderId: order.id, reason: 'gave up' });
    expect((await call(staff1.socket, 'products:get', { id: p.id })).stock).toBe(10);
  });

  test('a run reports in bulk, each item on its own; location pings are throttled and reach the shop', async () => {
    const p = await makeProduct(h, staff1);
    const [a, b] = [await placeOrder(shop, p.id), await placeOrder(shop, p.id)];
    await dispatch(staff1, driver4, a.id);
    await call(staff1.socket, 'order:accept', { orderId: b.id });
    const { code } = await call(shop.socket, 'delivery:code', { orderId: a.id });
    const res = await call(driver4.socket, 'delivery:bulk-status', {
      items: [
        { orderId: a.id, status: 'DELIVERED', code },
        { orderId: b.id, status: 'ON_THE_WAY' },
      ],
    });
    expect(res.items.map((i) => [i.ok, i.error ?? i.order?.status])).toEqual([
      [true, 'DELIVERED'],
      [false, { code: 'NOT_FOUND', message: 'order not found' }],
    ]);

    const c = await placeOrder(shop, p.id);
    await dispatch(staff1, driver2, c.id);
    const seen = h.next(shop.socket, 'driver:location', (p) => p.orderId === c.id);
    expect(await call(driver2.socket, 'delivery:location', { lat: 33.3, lng: 44.4 })).toEqual({ forwarded: true });
    expect((await seen).orderId).toBe(c.id);
    expect(await call(driver2.socket, 'delivery:location', { lat: 33.31, lng: 44.41 })).toEqual({ forwarded: false });
  });
});

describe('cash and settlements', () => {
  test('commission rounds half up, checked by hand', () => {
    expect(commissionOf(999, 1250)).toBe(125); // 124.875
    expect(commissionOf(1, 5000)).toBe(1); // 0.5
    expect(commissionOf(3, 1666)).toBe(0); // 0.4998
    expect(commissionOf(333, 333)).toBe(11); // 11.0889
    expect(commissionOf(10_005, 1000)).toBe(1001); // 1000.5
    expect(commissionOf(9_007_199_254_740, 10_000)).toBe(9_007_199_254_740);
  });

  test('collection with a short posts one balanced transaction; a retry with the same key records once', async () => {
    await call(admin.socket, 'vendors:update', { id: vendor1, commissionBps: 1250 });
    const p = await makeProduct(h, staff1, { price: 999 });
    const order = await placeOrder(shop, p.id, 1);
    expect(order).toMatchObject({ subtotal: 999, deliveryFee: 500, total: 1499, commissionBps: 1250 });
    await deliver(staff1, driver2, shop, order.id);
    expect(await codeOf(call(driver2.socket, 'cash:collect', { orderId: order.id, amount: 1400, idempotencyKey: key() }))).toBe('BAD_REQUEST');
    const k = key();
    const heard = h.next(staff1.socket, 'cash:collected', (p) => p.data.orderId === order.id);
    const [first, again] = await Promise.all(
      [0, 1].map(() => call(driver2.socket, 'cash:collect', { orderId: order.id, amount: 1400, reason: 'short change', idempotencyKey: k })),
    );
    expect(first).toEqual(again);
    expect(first).toMatchObject({ expected: 1499, collected: 1400, difference: -99 });
    expect((await heard).data.orderId).toBe(order.id);
    const entries = await h.q<{ account: string; amount: number }>(
      `SELECT e.account, e.amount FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id WHERE t.order_id = $1 ORDER BY e.account`,
      [order.id],
    );
    expect(Object.fromEntries(entries.map((e) => [e.account.split(':')[0], e.amount]))).toEqual({
      cash_differences: 99,
      driver_cash: 1400,
      platform_commission: -125,
      platform_delivery_fees: -500,
      vendor_payable: -(999 - 125),
    });
    expect(await ledgerSum()).toBe(0);
    expect(await codeOf(call(driver2.socket, 'cash:collect', { orderId: order.id, amount: 1499, idempotencyKey: key() }))).toBe('CONFLICT');
    await expect(h.q(`UPDATE ledger_entries SET amount = 0 WHERE account LIKE 'driver_cash:%'`)).rejects.toThrow(/append-only/);
    await call(admin.socket, 'vendors:update', { id: vendor1, commissionBps: 1000 });
  });

  test('handovers never exceed the cash held; pending cash shows who holds what', async () => {
    const p = await makeProduct(h, staff1, { price: 10_000 });
    const order = await placeOrder(shop, p.id, 1);
    await deliver(staff1, driver4, shop, order.id);
    await call(driver4.socket, 'cash:collect', { orderId: order.id, amount: 10_500, idempotencyKey: key() });
    const pending = await call(admin.socket, 'finance:pending-cash', {});
    expect(pending.items.find((i) => i.driverId === driver4.userId)?.amount).toBe(10_500);
    await fails(call(staff1.socket, 'cash:handover', { driverId: driver4.userId, amount: 10_501, idempotencyKey: key() }), 'CONFLICT', { held: 10_500 });
    const k = key();
    const a = await call(staff1.socket, 'cash:handover', { driverId: driver4.userId, amount: 4_000, idempotencyKey: k });
    const b = await call(staff1.socket, 'cash:handover', { driverId: driver4.userId, amount: 4_000, idempotencyKey: k });
    expect(b).toEqual(a);
    expect(a.remaining).toBe(6_500);
    const toPlatform = await call(admin.socket, 'cash:handover', { driverId: driver4.userId, amount: 6_500, idempotencyKey: key() });
    expect(toPlatform).toMatchObject({ remaining: 0, vendorId: null });
    expect((await call(admin.socket, 'finance:pending-cash', {})).items.map((i) => i.driverId)).not.toContain(driver4.userId);
    await fails(call(staff2.socket, 'cash:handover', { driverId: driver3.userId, amount: 1, idempotencyKey: key() }), 'CONFLICT', { held: 0 });
  });

  test('a settlement takes each collected order once, nets the vendor’s till, and pays through the ledger', async () => {
    // Vendor 2's orders, made here, so the settlement holds exactly these whatever ran before.
    const vendor2 = (await call(staff2.socket, 'me:get', {})).vendorId!;
    const [{ commission_bps: rate }] = (await h.q<{ commission_bps: number }>('SELECT commission_bps FROM vendors WHERE id = $1', [vendor2])) as [
      { commission_bps: number },
    ];
    const range = { from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 3600_000).toISOString() };
    const [earningsBefore, flowBefore] = [await call(admin.socket, 'finance:platform-earnings', range), await call(admin.socket, 'finance:cash-flow', range)];
    const p = await makeProduct(h, staff2, { price: 2_000 });
    const orders = [await placeOrder(shop, p.id, 1), await placeOrder(shop, p.id, 2)];
    for (const o of orders) {
      await deliver(staff2, driver3, shop, o.id);
      await call(driver3.socket, 'cash:collect', { orderId: o.id, amount: o.total, idempotencyKey: key() });
    }
    await call(staff2.socket, 'cash:handover', { driverId: driver3.userId, amount: 3_000, idempotencyKey: key() });
    await call(admin.socket, 'cash:handover', { driverId: driver3.userId, amount: 2_500 + 4_500 - 3_000, idempotencyKey: key() });
    const before = await call(staff2.socket, 'finance:vendor-balance', { vendorId: vendor2 });
    expect(before.cashHeld).toBe(3_000);

    const k = key();
    const s = await call(admin.socket, 'settlements:create', { vendorId: vendor2, preset: 'daily', idempotencyKey: k });
    expect(await call(admin.socket, 'settlements:create', { vendorId: vendor2, preset: 'daily', idempotencyKey: k })).toEqual(s);
    const commission = commissionOf(2_000, rate) + commissionOf(4_000, rate);
    expect([...s.orderIds].sort()).toEqual(orders.map((o) => o.id).sort());
    expect(s).toMatchObject({ gross: 6_000, commission, deliveryFees: 1_000, adjustments: -3_000, netPayable: 6_000 - commission - 3_000 });
    expect(await codeOf(call(admin.socket, 'settlements:create', { vendorId: vendor2, preset: 'daily', idempotencyKey: key() }))).toBe('CONFLICT');
    await fails(call(admin.socket, 'settlements:mark-paid', { id: s.id }), 'INVALID_TRANSITION', { from: 'CREATED', to: 'PAID' });
    expect(await codeOf(call(staff1.socket, 'settlements:get', { id: s.id }))).toBe('FORBIDDEN');
    await call(admin.socket, 'settlements:verify', { id: s.id });
    const paid = await call(admin.socket, 'settlements:mark-paid', { id: s.id });
    expect(paid.status).toBe('PAID');
    await fails(call(admin.socket, 'settlements:verify', { id: s.id }), 'INVALID_TRANSITION', { from: 'PAID', to: 'VERIFIED' });
    const after = await call(staff2.socket, 'finance:vendor-balance', { vendorId: vendor2 });
    expect(after).toMatchObject({ payable: before.payable - (s.gross - s.commission), cashHeld: 0 });
    expect(await ledgerSum()).toBe(0);
    expect((await h.audit('SETTLEMENT_PAID', s.id)).length).toBe(1);

    const earnings = await call(admin.socket, 'finance:platform-earnings', range);
    expect({
      commission: earnings.commission - earningsBefore.commission,
      deliveryFees: earnings.deliveryFees - earningsBefore.deliveryFees,
      cashDifferences: earnings.cashDifferences - earningsBefore.cashDifferences,
      total: earnings.total - earningsBefore.total,
    }).toEqual({ commission, deliveryFees: 1_000, cashDifferences: 0, total: commission + 1_000 });
    const flow = await call(admin.socket, 'finance:cash-flow', range);
    expect({
      collected: flow.collected - flowBefore.collected,
      toVendors: flow.toVendors - flowBefore.toVendors,
      toPlatform: flow.toPlatform - flowBefore.toPlatform,
      paidToVendors: flow.paidToVendors - flowBefore.paidToVendors,
    }).toEqual({ collected: 7_000, toVendors: 3_000, toPlatform: 4_000, paidToVendors: s.netPayable });
    const list = await call(staff2.socket, 'settlements:list', {});
    expect(list.items.map((x) => x.id)).toContain(s.id);
    const csv = await call(staff2.socket, 'settlements:export', {});
    const body = await (await fetch(`${h.url}${csv.url}`)).text();
    expect(body.split('\n')[0]).toMatch(/^id,vendor_id,period_start/);
    expect(body).toContain(s.id);
  });
});
