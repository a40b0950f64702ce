import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import type { Order } from '../protocol/ordering.js';
import { commissionOf } from '../server/finance/ledger.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { key, makeProduct, openVendors } from './support/ordering.js';
import { rng } from './support/rng.js';

let h: Harness;
let admin: Session;
let staff: Session[], shops: Session[], drivers: Session[];
let vendorIds: string[];

beforeAll(async () => {
  // Collections range widely around the total here; the tolerance itself is tested in finance-limits.test.ts.
  h = await startHarness({ env: { RATE_LIMIT_BURST: '1000000', RATE_LIMIT_PER_S: '1000000', CASH_TOLERANCE_BPS: '10000' } });
  admin = await h.login('admin@demo.lilium');
  staff = await Promise.all([1, 2].map((i) => h.login(`vendor${i}@demo.lilium`)));
  shops = await Promise.all([1, 2, 3, 4].map((i) => h.login(`shop${i}@demo.lilium`)));
  // Platform drivers work in every zone.
  drivers = await Promise.all([2, 4, 6].map((i) => h.login(`driver${i}@demo.lilium`)));
  vendorIds = await Promise.all(staff.map(async (s) => (await call(s.socket, 'me:get', {})).vendorId!));
  await openVendors(h, admin, vendorIds, { deliveryFee: 250, minOrderValue: 0 });
  // Rates that do not divide evenly, so rounding is exercised on every order.
  await call(admin.socket, 'vendors:update', { id: vendorIds[0]!, commissionBps: 1250 });
  await call(admin.socket, 'vendors:update', { id: vendorIds[1]!, commissionBps: 333 });
  for (const d of drivers) await call(d.socket, 'driver:availability', { available: true });
});
afterAll(() => h.close());

interface Model {
  orders: Map<string, { order: Order; staff: Session; shop: Session; collected: boolean }>;
  driverCash: Map<string, number>;
}

async function assertBooks(model: Model, trail: string): Promise<void> {
  const unbalanced = await h.q('SELECT tx_id FROM ledger_entries GROUP BY tx_id HAVING sum(amount) <> 0');
  expect(unbalanced, trail).toEqual([]);
  const [{ total }] = (await h.q<{ total: number }>('SELECT coalesce(sum(amount), 0)::bigint AS total FROM ledger_entries')) as [{ total: number }];
  expect(total, trail).toBe(0);
  const twice = await h.q('SELECT order_id FROM settlement_orders GROUP BY order_id HAVING count(*) > 1');
  expect(twice, trail).toEqual([]);

  for (const d of drivers) {
    const [row] = await h.q<{ b: number }>(`SELECT coalesce(sum(amount), 0)::bigint AS b FROM ledger_entries WHERE account = $1`, [`driver_cash:${d.userId}`]);
    expect(row!.b, `driver cash ${trail}`).toBe(model.driverCash.get(d.userId) ?? 0);
  }

  // Each vendor's balance, recomputed from orders, collections, handovers and paid settlements without the ledger.
  for (const [i, vendorId] of vendorIds.entries()) {
    const collected = await h.q<{ goods: number; bps: number }>(
      `SELECT (o.subtotal_minor - o.discount_minor)::bigint AS goods, o.commission_bps AS bps FROM orders o JOIN cash_collections c ON c.order_id = o.id WHERE o.vendor_id = $1`,
      [vendorId],
    );
    const [paid] = await h.q<{ share: number; netted: number }>(
      `SELECT coalesce(sum(gross_minor - commission_minor), 0)::bigint AS share, coalesce(-sum(adjustments_minor), 0)::bigint AS netted
         FROM settlements WHERE vendor_id = $1 AND status = 'PAID'`,
      [vendorId],
    );
    const [till] = await h.q<{ n: number }>('SELECT coalesce(sum(amount_minor), 0)::bigint AS n FROM cash_handovers WHERE vendor_id = $1', [vendorId]);
    const owed = collected.reduce((s, o) => s + o.goods - commissionOf(o.goods, o.bps), 0) - paid!.share;
    const balance = await call(staff[i]!.socket, 'finance:vendor-balance', { vendorId });
    expect(balance, `vendor ${i} ${trail}`).toMatchObject({ payable: owed, cashHeld: till!.n - paid!.netted });
  }
}

test('1,000 random deliveries, collections, handovers, cancellations and settlements keep the books balanced', async () => {
  const r = rng(20261125);
  const products = await Promise.all([0, 1].flatMap((v) => [999, 1234, 777].map((price) => makeProduct(h, staff[v]!, { price, stock: 1_000_000 }))));
  const model: Model = { orders: new Map(), driverCash: new Map() };
  const started = new Date(Date.now() - 1000).toISOString();
  const counts = new Map<string, number>();
  const ok = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
  const inStatus = (...statuses: string[]) => [...model.orders.values()].filter((o) => statuses.includes(o.order.status));
  const refresh = async (id: string, order?: Order) => {
    const o = model.orders.get(id)!;
    o.order = order ?? (await call(o.staff.socket, 'orders:get', { id }));
  };

  for (let step = 0; step < 1000; step++) {
    const trail = `step ${step}`;
    const action = r.pick(['place', 'place', 'advance', 'advance', 'advance', 'advance', 'collect', 'collect', 'handover', 'cancel', 'settle']);
    if (action === 'place' || model.orders.size === 0) {
      const v = r.int(2);
      const shop = r.pick(shops);
      const picks = products.filter((p) => p.vendorId === vendorIds[v]);
      await call(shop.socket, 'cart:clear', {});
      for (let n = 0; n <= r.int(2); n++) await call(shop.socket, 'cart:add', { productId: r.pick(picks).id, quantity: 1 + r.int(3) });
      const [order] = (await call(shop.socket, 'cart:checkout', { idempotencyKey: key() })).orders as [Order];
      model.orders.set(order.id, { order, staff: staff[v]!, shop, collected: false });
      ok('place');
    } else if (action === 'advance') {
      const open = inStatus('PENDING', 'ACCEPTED', 'PREPARING', 'ON_THE_WAY', 'FAILED');
      if (!open.length) continue;
      const o = r.pick(open);
      const id = o.order.id;
      const driver = drivers.find((d) => d.userId === o.order.driverId);
      switch (o.order.status) {
        case 'PENDING':
          await refresh(
            id,
            await (r.int(10) === 0
              ? call(o.staff.socket, 'order:reject', { orderId: id, reason: 'random' })
              : call(o.staff.socket, 'order:accept', { orderId: id })),
          );
          break;
        case 'ACCEPTED':
          await refresh(id, await call(o.staff.socket, 'order:prepare', { orderId: id }));
          break;
        case 'PREPARING':
        case 'FAILED': {
          const next = r.pick(drivers.filter((d) => d.userId !== o.order.driverId));
          await call(o.staff.socket, 'delivery:assign', { orderId: id, driverId: next.userId, reason: 'random run' });
          await refresh(id, await call(next.socket, 'delivery:status', { orderId: id, status: 'ON_THE_WAY' }));
          break;
        }
        case 'ON_THE_WAY':
          if (r.int(5) === 0) await refresh(id, await call(driver!.socket, 'delivery:status', { orderId: id, status: 'FAILED', reason: 'random' }));
          else {
            const { code } = await call(o.shop.socket, 'delivery:code', { orderId: id });
            await refresh(id, await call(driver!.socket, 'delivery:status', { orderId: id, status: 'DELIVERED', code }));
          }
          break;
      }
      ok(`advance ${o.order.status}`);
    } else if (action === 'collect') {
      const due = inStatus('DELIVERED').filter((o) => !o.collected);
      if (!due.length) continue;
      const o = r.pick(due);
      const driver = drivers.find((d) => d.userId === o.order.driverId)!;
      const off = r.pick([0, 0, 0, -r.int(200) - 1, r.int(150) + 1]);
      const amount = Math.max(0, o.order.total + off);
      const input = { orderId: o.order.id, amount, idempotencyKey: key(), ...(amount !== o.order.total ? { reason: 'counted at the door' } : {}) };
      const first = await call(driver.socket, 'cash:collect', input);
      if (r.int(4) === 0) expect(await call(driver.socket, 'cash:collect', input), trail).toEqual(first);
      o.collected = true;
      model.driverCash.set(driver.userId, (model.driverCash.get(driver.userId) ?? 0) + amount);
      ok('collect');
    } else if (action === 'handover') {
      const holders = drivers.filter((d) => (model.driverCash.get(d.userId) ?? 0) > 0);
      if (!holders.length) continue;
      const d = r.pick(holders);
      const held = model.driverCash.get(d.userId)!;
      const amount = 1 + r.int(held);
      const receiver = r.pick([admin, ...staff]);
      const res = await call(receiver.socket, 'cash:handover', { driverId: d.userId, amount, idempotencyKey: key() });
      expect(res.remaining, trail).toBe(held - amount);
      model.driverCash.set(d.userId, held - amount);
      ok('handover');
    } else if (action === 'cancel') {
      const open = inStatus('PENDING', 'ACCEPTED', 'PREPARING');
      if (!open.length) continue;
      const o = r.pick(open);
      await refresh(o.order.id, await call(o.staff.socket, 'order:cancel', { orderId: o.order.id, reason: 'random' }));
      ok('cancel');
    } else {
      const vendorId = r.pick(vendorIds);
      const k = key();
      const input = { vendorId, periodStart: started, periodEnd: new Date(Date.now() + 1000).toISOString(), idempotencyKey: k };
      const made = await call(admin.socket, 'settlements:create', input).catch((e: { code: string }) => {
        expect(e.code, trail).toBe('CONFLICT'); // nothing left to settle
        return null;
      });
      if (!made) continue;
      expect(await call(admin.socket, 'settlements:create', input), trail).toEqual(made);
      if (r.int(2) === 0) {
        await call(admin.socket, 'settlements:verify', { id: made.id });
        await call(admin.socket, 'settlements:mark-paid', { id: made.id });
      }
      ok('settle');
    }
    if (step % 250 === 249) await assertBooks(model, trail);
  }
  await assertBooks(model, 'at the end');
  // The run must have reached every kind of money event.
  for (const name of ['place', 'collect', 'handover', 'cancel', 'settle', 'advance ON_THE_WAY']) expect(counts.get(name) ?? 0, name).toBeGreaterThan(3);
}, 180_000);
