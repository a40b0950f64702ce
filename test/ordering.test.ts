import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import type { Order, OrderStatus } from '../protocol/ordering.js';
import { codeOf, fails } from './support/expect.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { placeOrder } from './support/delivery.js';
import { key, makeProduct, makeShops, openVendors } from './support/ordering.js';

let h: Harness;
let admin: Session, shop: Session;
let staff: Session[];
let vendorIds: string[];
let zoneId: string;

beforeAll(async () => {
  // Admins create hundreds of shop owners here: the per-user rate limit is not under test.
  // Shops connect from their own addresses, as in the field: one address may hold only MAX_CONNECTIONS_PER_ADDRESS sockets.
  h = await startHarness({ env: { TRUST_PROXY: '1', RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_S: '100000' } });
  admin = await h.login('admin@demo.lilium');
  staff = await Promise.all([1, 2, 3].map((i) => h.login(`vendor${i}@demo.lilium`)));
  vendorIds = await Promise.all(staff.map(async (s) => (await call(s.socket, 'me:get', {})).vendorId!));
  await openVendors(h, admin, vendorIds);
  shop = await h.login('shop1@demo.lilium');
  zoneId = (await call(shop.socket, 'me:get', {})).zoneIds[0]!;
});
afterAll(() => h.close());

const stockOf = async (id: string) => (await h.q<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [id]))[0]!.stock;

describe('cart', () => {
  test('groups lines by vendor with delivery fee and totals, and shows the change on the owner’s other device', async () => {
    const [a, b] = await Promise.all([makeProduct(h, staff[0]!, { price: 12_345 }), makeProduct(h, staff[1]!, { price: 500 })]);
    await call(shop.socket, 'cart:clear', {});
    const second = await h.login('shop1@demo.lilium');
    const seen = h.next(second.socket, 'cart:updated');
    await call(shop.socket, 'cart:add', { productId: a.id, quantity: 2 });
    expect((await seen).groups[0]!.items[0]!.quantity).toBe(2);
    await call(shop.socket, 'cart:add', { productId: a.id, quantity: 1 });
    const cart = await call(shop.socket, 'cart:add', { productId: b.id, quantity: 4 });
    const groupA = cart.groups.find((g) => g.vendor.id === vendorIds[0])!;
    expect(groupA.items[0]).toMatchObject({ quantity: 3, unitPrice: 12_345, lineTotal: 37_035, problems: [] });
    expect(groupA).toMatchObject({ subtotal: 37_035, discount: 0, deliveryFee: 500, total: 37_535 });
    expect(cart.total).toBe(37_535 + 2000 + 500);
    expect(cart.ready).toBe(true);

    const removed = await call(shop.socket, 'cart:remove', { productId: b.id });
    expect(removed.groups.map((g) => g.vendor.id)).toEqual([vendorIds[0]]);
    expect((await call(second.socket, 'cart:get', {})).groups).toEqual(removed.groups);
    second.socket.close();
  });

  test('names every problem that would stop checkout, and checkout answers the matching code', async () => {
    const p = await makeProduct(h, staff[0]!, { stock: 2, minOrderQty: 3 });
    await call(shop.socket, 'cart:clear', {});
    let cart = await call(shop.socket, 'cart:add', { productId: p.id, quantity: 2 });
    expect(cart.groups[0]!.items[0]!.problems.map((x) => x.code)).toEqual(['BELOW_MIN_QTY']);
    expect(cart.ready).toBe(false);
    await fails(call(shop.socket, 'cart:checkout', { idempotencyKey: key() }), 'MIN_ORDER_NOT_MET', {
      problems: [{ vendorId: vendorIds[0], productId: p.id, code: 'BELOW_MIN_QTY' }],
    });

    cart = await call(shop.socket, 'cart:update', { productId: p.id, quantity: 3 });
    expect(cart.groups[0]!.items[0]!.problems.map((x) => x.code)).toEqual(['OUT_OF_STOCK']);
    await fails(call(shop.socket, 'cart:checkout', { idempotencyKey: key() }), 'INSUFFICIENT_STOCK', {
      problems: [{ vendorId: vendorIds[0], productId: p.id, code: 'OUT_OF_STOCK' }],
    });

    await call(staff[0]!.socket, 'stock:adjust', { productId: p.id, delta: 10, reason: 'restock', idempotencyKey: key() });
    await call(staff[0]!.socket, 'products:update', { id: p.id, price: 11_000 });
    cart = await call(shop.socket, 'cart:get', {});
    expect(cart.groups[0]!.items[0]!.problems.map((x) => x.code)).toEqual(['PRICE_CHANGED']);
    await fails(call(shop.socket, 'cart:checkout', { idempotencyKey: key() }), 'CONFLICT', {
      problems: [{ vendorId: vendorIds[0], productId: p.id, code: 'PRICE_CHANGED' }],
    });
    cart = await call(shop.socket, 'cart:update', { productId: p.id, quantity: 3 });
    expect(cart.ready).toBe(true);

    await call(admin.socket, 'vendors:update', {
      id: vendorIds[0]!,
      zones: (await call(admin.socket, 'zones:list', {})).items.map((z) => ({ zoneId: z.id, deliveryFee: 500, minOrderValue: 1_000_000 })),
    });
    cart = await call(shop.socket, 'cart:get', {});
    expect(cart.groups[0]!.problems.map((x) => x.code)).toEqual(['MIN_ORDER_NOT_MET']);
    await fails(call(shop.socket, 'cart:checkout', { idempotencyKey: key() }), 'MIN_ORDER_NOT_MET', {
      problems: [{ vendorId: vendorIds[0], productId: null, code: 'MIN_ORDER_NOT_MET' }],
    });
    await openVendors(h, admin, [vendorIds[0]!]);

    await call(admin.socket, 'vendors:set-status', { id: vendorIds[0]!, status: 'SUSPENDED', reason: 'cart test' });
    cart = await call(shop.socket, 'cart:get', {});
    expect(cart.groups[0]!.problems.map((x) => x.code)).toContain('VENDOR_UNAVAILABLE');
    await fails(call(shop.socket, 'cart:checkout', { idempotencyKey: key() }), 'CONFLICT', {
      problems: [{ vendorId: vendorIds[0], productId: null, code: 'VENDOR_UNAVAILABLE' }],
    });
    await call(admin.socket, 'vendors:set-status', { id: vendorIds[0]!, status: 'APPROVED', reason: 'cart test' });
    expect(await stockOf(p.id)).toBe(12);
  });

  test('another shop’s cart and bad input are refused without changes', async () => {
    expect(await codeOf(call(shop.socket, 'cart:add', { productId: '00000000-0000-4000-8000-000000000000', quantity: 1 }))).toBe('NOT_FOUND');
    await fails(call(shop.socket, 'cart:add', { productId: 'nope', quantity: 1 } as never), 'BAD_REQUEST', [{ path: 'productId', code: 'invalid_format' }]);
    await fails(call(shop.socket, 'cart:add', { productId: '00000000-0000-4000-8000-000000000000', quantity: 0 }), 'BAD_REQUEST', [
      { path: 'quantity', code: 'too_small' },
    ]);
    expect(await codeOf(call(shop.socket, 'cart:coupon', { code: 'NO-SUCH-CODE' }))).toBe('NOT_FOUND');
  });
});

describe('checkout', () => {
  test('a three-vendor cart becomes three orders in three vendor rooms, at server prices, emptying the cart', async () => {
    const products = await Promise.all(staff.map((s, i) => makeProduct(h, s, { price: 1000 * (i + 1), stock: 50 })));
    const news = staff.map((s) => h.next(s.socket, 'order:new', (p) => p.data.note === 'back door'));
    await call(shop.socket, 'cart:clear', {});
    for (const p of products) await call(shop.socket, 'cart:add', { productId: p.id, quantity: 5 });
    const { checkoutId, orders } = await call(shop.socket, 'cart:checkout', { idempotencyKey: key(), note: 'back door' });
    expect(orders).toHaveLength(3);
    expect(new Set(orders.map((o) => o.vendorId))).toEqual(new Set(vendorIds));
    for (const o of orders) {
      expect(o).toMatchObject({ checkoutId, status: 'PENDING', note: 'back door', zoneId, deliveryFee: 500 });
      expect(o.total).toBe(o.subtotal - o.discount + o.deliveryFee);
      expect(o.timeline.map((e) => e.status)).toEqual(['PENDING']);
    }
    const pushed = await Promise.all(news);
    expect(pushed.map((p) => p.data.checkoutId)).toEqual([checkoutId, checkoutId, checkoutId]);
    expect(pushed.map((p) => p.data.vendorId)).toEqual(vendorIds);
    for (const p of products) expect(await stockOf(p.id)).toBe(45);
    expect((await call(shop.socket, 'cart:get', {})).groups).toEqual([]);
    const [rate] = await h.q<{ commission_bps: number }>('SELECT commission_bps FROM vendors WHERE id = $1', [vendorIds[0]]);
    expect(orders.find((o) => o.vendorId === vendorIds[0])!.commissionBps).toBe(rate!.commission_bps);
  });

  test('only the chosen vendor groups are ordered; the rest stay in the cart', async () => {
    const [a, b] = await Promise.all([makeProduct(h, staff[0]!), makeProduct(h, staff[1]!)]);
    await call(shop.socket, 'cart:clear', {});
    await call(shop.socket, 'cart:add', { productId: a.id, quantity: 1 });
    await call(shop.socket, 'cart:add', { productId: b.id, quantity: 1 });
    const { orders } = await call(shop.socket, 'cart:checkout', { idempotencyKey: key(), vendorIds: [vendorIds[1]!] });
    expect(orders.map((o) => o.vendorId)).toEqual([vendorIds[1]]);
    expect((await call(shop.socket, 'cart:get', {})).groups.map((g) => g.vendor.id)).toEqual([vendorIds[0]]);
    expect(await codeOf(call(shop.socket, 'cart:checkout', { idempotencyKey: key(), vendorIds: [vendorIds[2]!] }))).toBe('CONFLICT');
  });

  test('the same key sent 20 times across 3 reconnects places one checkout', async () => {
    const p = await makeProduct(h, staff[0]!, { stock: 30 });
    const owner = (await makeShops(h, admin, 1, zoneId))[0]!;
    await call(owner.socket, 'cart:add', { productId: p.id, quantity: 2 });
    const k = key();
    const answers = [];
    let socket = owner.socket;
    for (let round = 0; round < 4; round++) {
      answers.push(...(await Promise.all(Array.from({ length: 5 }, () => call(socket, 'cart:checkout', { idempotencyKey: k })))));
      if (round < 3) {
        socket.close();
        socket = await h.connect({ token: owner.accessToken });
      }
    }
    expect(answers).toHaveLength(20);
    expect(new Set(answers.map((a) => a.checkoutId)).size).toBe(1);
    expect(await stockOf(p.id)).toBe(28);
    expect((await call(socket, 'orders:list', {})).items).toHaveLength(1);
    expect(await codeOf(call(socket, 'cart:checkout', { idempotencyKey: k, note: 'different' }))).toBe('IDEMPOTENCY_MISMATCH');
  });

  test('200 shop owners race for the last 10 units: exactly 10 sold, 190 clear INSUFFICIENT_STOCK, never negative', async () => {
    const p = await makeProduct(h, staff[0]!, { stock: 10 });
    const owners = await makeShops(h, admin, 200, zoneId);
    await Promise.all(owners.map((o) => call(o.socket, 'cart:add', { productId: p.id, quantity: 1 })));
    const results = await Promise.allSettled(owners.map((o) => call(o.socket, 'cart:checkout', { idempotencyKey: key() })));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refusals = results.filter((r) => r.status === 'rejected').map((r) => r.reason as { code: string; details: unknown });
    expect(ok).toHaveLength(10);
    expect(refusals.map((r) => r.code)).toEqual(Array(190).fill('INSUFFICIENT_STOCK'));
    const outOfStock = [
      // The cart was priced after the last unit had gone,
      { problems: [{ vendorId: vendorIds[0], productId: p.id, code: 'OUT_OF_STOCK', message: 'out of stock' }] },
      // or the last unit went between pricing and taking it.
      { products: [{ productId: p.id, requested: 1, available: 0 }] },
    ];
    for (const r of refusals) expect(outOfStock).toContainEqual(r.details);
    expect(await stockOf(p.id)).toBe(0);
    const [sold] = await h.q<{ n: number }>('SELECT coalesce(sum(quantity), 0)::int AS n FROM order_items WHERE product_id = $1', [p.id]);
    expect(sold!.n).toBe(10);
    const [low] = await h.q<{ min: number }>('SELECT min(stock_after)::int AS min FROM stock_history WHERE product_id = $1', [p.id]);
    expect(low!.min).toBe(0);
    for (const o of owners) o.socket.close();
  }, 60_000);
});

describe('vendor workflow', () => {
  const STATUSES: OrderStatus[] = ['PENDING', 'ACCEPTED', 'PREPARING', 'ON_THE_WAY', 'DELIVERED', 'FAILED', 'REJECTED', 'CANCELLED'];
  // The contract's arrows, written out independently of the server's table.
  const ALLOWED = new Set([
    'PENDING>ACCEPTED',
    'PENDING>REJECTED',
    'PENDING>CANCELLED',
    'ACCEPTED>PREPARING',
    'ACCEPTED>CANCELLED',
    'PREPARING>CANCELLED',
    'PREPARING>ON_THE_WAY',
    'ON_THE_WAY>DELIVERED',
    'ON_THE_WAY>FAILED',
    'FAILED>ON_THE_WAY',
    'FAILED>CANCELLED',
  ]);
  const BY_EVENT = {
    ACCEPTED: (id: string) => call(staff[0]!.socket, 'order:accept', { orderId: id }),
    PREPARING: (id: string) => call(staff[0]!.socket, 'order:prepare', { orderId: id }),
    REJECTED: (id: string) => call(staff[0]!.socket, 'order:reject', { orderId: id, reason: 'table' }),
    CANCELLED: (id: string) => call(admin.socket, 'order:cancel', { orderId: id, reason: 'table' }),
  } as const;

  test('every status pair: the table matches the contract, and each vendor event obeys it', async () => {
    const { ORDER_TRANSITIONS } = await import('../server/orders/workflow.js');
    for (const from of STATUSES)
      for (const to of STATUSES) expect((ORDER_TRANSITIONS[from] as readonly string[]).includes(to)).toBe(ALLOWED.has(`${from}>${to}`));

    const p = await makeProduct(h, staff[0]!, { stock: 1000 });
    for (const from of STATUSES) {
      for (const [to, send] of Object.entries(BY_EVENT)) {
        const order = await placeOrder(shop, p.id);
        await h.q('UPDATE orders SET status = $2 WHERE id = $1', [order.id, from]);
        const outcome = await send(order.id).then(
          (o) => o.status,
          (e: { code: string; details: unknown }) => [e.code, e.details],
        );
        expect([from, to, outcome]).toEqual([from, to, ALLOWED.has(`${from}>${to}`) ? to : ['INVALID_TRANSITION', { from, to }]]);
      }
    }
  }, 60_000);

  test('accept, prepare: the timeline records who and when, and the shop hears each step', async () => {
    const p = await makeProduct(h, staff[0]!);
    const order = await placeOrder(shop, p.id, 2);
    const heard = h.next(shop.socket, 'order:updated', (p) => p.data.id === order.id);
    await call(staff[0]!.socket, 'order:accept', { orderId: order.id });
    expect((await heard).data.status).toBe('ACCEPTED');
    const prepared = await call(staff[0]!.socket, 'order:prepare', { orderId: order.id });
    expect(prepared.timeline.map((e) => [e.status, e.by])).toEqual([
      ['PENDING', shop.userId],
      ['ACCEPTED', staff[0]!.userId],
      ['PREPARING', staff[0]!.userId],
    ]);
    expect(await codeOf(call(shop.socket, 'order:cancel', { orderId: order.id, reason: 'too late' }))).toBe('FORBIDDEN');
  });

  test('reject and cancel give the stock back; a shop cancels its own PENDING order', async () => {
    const p = await makeProduct(h, staff[0]!, { stock: 20 });
    const a = await placeOrder(shop, p.id, 5);
    const b = await placeOrder(shop, p.id, 3);
    expect(await stockOf(p.id)).toBe(12);
    const rejected = await call(staff[0]!.socket, 'order:reject', { orderId: a.id, reason: 'closed today' });
    expect(rejected.timeline.at(-1)).toMatchObject({ status: 'REJECTED', reason: 'closed today' });
    await call(shop.socket, 'order:cancel', { orderId: b.id, reason: 'ordered twice' });
    expect(await stockOf(p.id)).toBe(20);
    const reasons = await h.q<{ reason: string; delta: number }>(
      `SELECT reason, delta FROM stock_history WHERE product_id = $1 AND reason LIKE 'ORDER%' ORDER BY id`,
      [p.id],
    );
    expect(reasons.map((r) => `${r.reason}:${r.delta}`)).toEqual(['ORDER_PLACED:-5', 'ORDER_PLACED:-3', 'ORDER_REJECTED:5', 'ORDER_CANCELLED:3']);
  });

  test('a vendor lowers quantities before accepting: totals recomputed, stock returned, the shop told', async () => {
    const [p, q] = await Promise.all([makeProduct(h, staff[0]!, { price: 1000 }), makeProduct(h, staff[0]!, { price: 300 })]);
    await call(shop.socket, 'cart:clear', {});
    await call(shop.socket, 'cart:add', { productId: p.id, quantity: 10 });
    await call(shop.socket, 'cart:add', { productId: q.id, quantity: 4 });
    const [order] = (await call(shop.socket, 'cart:checkout', { idempotencyKey: key() })).orders as [Order];
    expect(order.subtotal).toBe(11_200);
    const heard = h.next(shop.socket, 'order:updated', (p) => p.data.id === order.id);
    const reduced = await call(staff[0]!.socket, 'order:reduce', {
      orderId: order.id,
      items: [
        { productId: p.id, quantity: 6 },
        { productId: q.id, quantity: 0 },
      ],
      reason: 'short on stock',
    });
    expect(reduced).toMatchObject({ subtotal: 6000, total: 6500, status: 'PENDING' });
    expect(reduced.items.find((i) => i.productId === q.id)).toMatchObject({ quantity: 0, orderedQuantity: 4, lineTotal: 0 });
    expect((await heard).data.subtotal).toBe(6000);
    expect(await stockOf(p.id)).toBe(94);
    expect(await stockOf(q.id)).toBe(100);
    expect(await codeOf(call(staff[0]!.socket, 'order:reduce', { orderId: order.id, items: [{ productId: p.id, quantity: 7 }], reason: 'x' }))).toBe(
      'BAD_REQUEST',
    );
    await call(staff[0]!.socket, 'order:accept', { orderId: order.id });
    await fails(call(staff[0]!.socket, 'order:reduce', { orderId: order.id, items: [{ productId: p.id, quantity: 1 }], reason: 'x' }), 'INVALID_TRANSITION', {
      from: 'ACCEPTED',
      to: 'PENDING',
    });
  });

  test('orders are scoped: another shop or vendor does not find them; reorder puts available items back', async () => {
    const p = await makeProduct(h, staff[0]!);
    const owner = (await makeShops(h, admin, 1, zoneId))[0]!;
    const older = [await placeOrder(owner, p.id, 1), await placeOrder(owner, p.id, 2)];
    const order = await placeOrder(owner, p.id, 3);
    const other = await h.login('shop2@demo.lilium');
    expect(await codeOf(call(other.socket, 'orders:get', { id: order.id }))).toBe('NOT_FOUND');
    expect(await codeOf(call(staff[1]!.socket, 'order:accept', { orderId: order.id }))).toBe('NOT_FOUND');
    expect((await call(staff[0]!.socket, 'orders:get', { id: order.id })).id).toBe(order.id);
    expect((await call(staff[1]!.socket, 'orders:list', {})).items.every((o) => o.vendorId === vendorIds[1])).toBe(true);
    // Newest first, in pages of two.
    const mine = await call(owner.socket, 'orders:list', { status: 'PENDING', limit: 2 });
    expect(mine.items.map((o) => o.id)).toEqual([order.id, older[1]!.id]);
    expect(typeof mine.nextCursor).toBe('string');
    const next = await call(owner.socket, 'orders:list', { status: 'PENDING', limit: 2, cursor: mine.nextCursor! });
    expect([next.items.map((o) => o.id), next.nextCursor]).toEqual([[older[0]!.id], null]);

    await call(staff[0]!.socket, 'products:update', { id: p.id, status: 'DRAFT' });
    const gone = await call(owner.socket, 'order:reorder', { orderId: order.id });
    expect(gone.skipped).toEqual([{ productId: p.id, reason: 'no longer sold' }]);
    await call(staff[0]!.socket, 'products:update', { id: p.id, status: 'ACTIVE' });
    const back = await call(owner.socket, 'order:reorder', { orderId: order.id });
    expect(back.cart.groups[0]!.items[0]).toMatchObject({ productId: p.id, quantity: 3 });
  });

  test('vendors:stats counts orders by status, revenue, time to accept and rejection rate', async () => {
    const from = new Date(Date.now() - 1000).toISOString();
    const p = await makeProduct(h, staff[2]!, { price: 2000 });
    const orders = [];
    for (let i = 0; i < 4; i++) orders.push(await placeOrder(shop, p.id, 1));
    await call(staff[2]!.socket, 'order:accept', { orderId: orders[0]!.id });
    await call(staff[2]!.socket, 'order:accept', { orderId: orders[1]!.id });
    await call(staff[2]!.socket, 'order:reject', { orderId: orders[2]!.id, reason: 'no' });
    await h.q(`UPDATE orders SET status = 'DELIVERED' WHERE id = $1`, [orders[0]!.id]);
    // Accepted 30 and 90 seconds after they were placed, so the average is known.
    await h.q(`UPDATE orders SET accepted_at = created_at + make_interval(secs => $2) WHERE id = $1`, [orders[0]!.id, 30]);
    await h.q(`UPDATE orders SET accepted_at = created_at + make_interval(secs => $2) WHERE id = $1`, [orders[1]!.id, 90]);
    const to = new Date(Date.now() + 1000).toISOString();
    const stats = await call(admin.socket, 'vendors:stats', { id: vendorIds[2]!, from, to });
    expect(stats).toMatchObject({ orders: 4, byStatus: { DELIVERED: 1, ACCEPTED: 1, REJECTED: 1, PENDING: 1 }, revenue: 2500, orderedValue: 7500 });
    expect(stats.rejectionRate).toBeCloseTo(1 / 3);
    expect(stats.averageAcceptSeconds).toBe(60);
    const manager = await h.login('manager1@demo.lilium');
    expect(await codeOf(call(manager.socket, 'vendors:stats', { id: vendorIds[2]!, from, to }))).toBe('FORBIDDEN');
  });
});
