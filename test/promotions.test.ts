import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call, type LiliumSocket } from '../protocol/client.js';
import type { InputOf } from '../protocol/index.js';
import { discountOf } from '../server/promotions/rules.js';
import { LockHolder } from './support/lock-holder.js';
import { codeOf, fails } from './support/expect.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { key, makeProduct, makeShops, openVendors } from './support/ordering.js';
import { line, rule } from './support/rules.js';
import { until } from './support/until.js';

let h: Harness;
let admin: Session, manager: Session, staff: Session, shop: Session;
let vendorId: string;
let zoneId: string;
const hour = 3600_000;
const live = () => ({ startsAt: new Date(Date.now() - hour).toISOString(), endsAt: new Date(Date.now() + hour).toISOString() });

beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_S: '100000' } });
  [admin, manager, staff, shop] = (await Promise.all(
    ['admin@demo.lilium', 'manager1@demo.lilium', 'vendor1@demo.lilium', 'shop1@demo.lilium'].map((e) => h.login(e)),
  )) as [Session, Session, Session, Session];
  vendorId = (await call(staff.socket, 'me:get', {})).vendorId!;
  zoneId = (await call(shop.socket, 'me:get', {})).zoneIds[0]!;
  await openVendors(h, admin, [vendorId]);
});
afterAll(() => h.close());

/** Each promotion test gets a fresh category, so promotions of other tests never reach its products. */
async function freshCategory(): Promise<string> {
  const n = Math.random().toString(36).slice(2, 8);
  return (await call(admin.socket, 'categories:create', { name: { ar: `فئة ${n}`, en: `Promo ${n}` } })).id;
}

async function promote(input: Partial<InputOf<'promotions:create'>> & Pick<InputOf<'promotions:create'>, 'kind'>, by: LiliumSocket = manager.socket) {
  return call(by, 'promotions:create', { name: { ar: 'عرض', en: `Promo ${input.kind}` }, ...live(), ...input } as InputOf<'promotions:create'>);
}

/**
 * A FIXED promotion of 500 on `cat`, good for one use, made (others switched off) until its id is above `than`'s:
 * one a checkout locks after `than`, so a checkout that held it and claimed `than` would lock out of order.
 */
async function oneUseAbove(than: string, cat: string, by: LiliumSocket) {
  for (;;) {
    const made = (await promote({ kind: 'FIXED', amount: 500, categoryIds: [cat], usageLimit: 1 }, by)).promotion;
    if (made.id > than) return made;
    await call(by, 'promotions:set-active', { id: made.id, active: false });
  }
}

async function cartWith(lines: Array<[string, number]>, owner = shop) {
  await call(owner.socket, 'cart:clear', {});
  let cart;
  for (const [productId, quantity] of lines) cart = await call(owner.socket, 'cart:add', { productId, quantity });
  return cart!;
}

describe('discount rules', () => {
  test('percentages round down to the minor unit; caps and minimum purchase apply', () => {
    expect(discountOf(rule({ percent_bps: 1250 }), [line(999, 1)])).toBe(124); // 124.875 → 124
    expect(discountOf(rule({ percent_bps: 5000, max_discount_minor: 300 }), [line(1000, 1)])).toBe(300);
    expect(discountOf(rule({ percent_bps: 5000, min_purchase_minor: 2001 }), [line(1000, 2)])).toBe(0);
  });

  test('a fixed amount never exceeds what it applies to', () => {
    expect(discountOf(rule({ kind: 'FIXED', amount_minor: 5000 }), [line(1000, 2)])).toBe(2000);
  });

  test('buy X get Y counts every X+Y units of one product; tiers pick the highest reached', () => {
    const bxgy = rule({ kind: 'BUY_X_GET_Y', buy_qty: 2, get_qty: 1 });
    expect(discountOf(bxgy, [line(100, 7)])).toBe(200);
    expect(discountOf(bxgy, [line(100, 2, 'a'), line(100, 2, 'b')])).toBe(0);
    const tiered = rule({
      kind: 'TIERED',
      tiers: [
        { minQty: 10, percentBps: 500 },
        { minQty: 50, percentBps: 1000 },
      ],
    });
    expect(discountOf(tiered, [line(100, 9)])).toBe(0);
    expect(discountOf(tiered, [line(100, 10)])).toBe(50);
    expect(discountOf(tiered, [line(100, 60)])).toBe(600);
  });

  test('targets: products, or categories with everything below them', () => {
    const r = rule({ percent_bps: 1000, category_ids: ['parent'] });
    expect(discountOf(r, [line(1000, 1, 'a', ['leaf', 'parent']), line(1000, 1, 'b', ['other'])])).toBe(100);
    expect(discountOf(rule({ percent_bps: 1000, product_ids: ['b'] }), [line(1000, 1, 'a'), line(500, 2, 'b')])).toBe(100);
  });
});

describe('promotions at checkout', () => {
  test('the best single promotion applies per vendor group, and the order keeps it', async () => {
    const parent = await freshCategory();
    const child = (await call(admin.socket, 'categories:create', { parentId: parent, name: { ar: 'فرعية', en: `Child ${parent.slice(0, 4)}` } })).id;
    const p = await makeProduct(h, staff, { price: 10_000, categoryId: child });
    const small = await promote({ kind: 'PERCENT', percentBps: 500, categoryIds: [parent] });
    const big = await promote({ kind: 'FIXED', amount: 2_000, productIds: [p.id] });
    expect(big.warnings.map((w) => w.promotionId)).toContain(small.promotion.id);
    const cart = await cartWith([[p.id, 3]]);
    expect(cart.groups[0]).toMatchObject({ subtotal: 30_000, discount: 2_000, total: 28_500, promotion: { id: big.promotion.id } });
    const { orders } = await call(shop.socket, 'cart:checkout', { idempotencyKey: key() });
    expect(orders[0]).toMatchObject({ discount: 2_000, total: 28_500, promotion: { id: big.promotion.id } });
    const [r] = await h.q<{ discount_minor: number }>('SELECT discount_minor FROM promotion_redemptions WHERE order_id = $1', [orders[0]!.id]);
    expect(r!.discount_minor).toBe(2000);
  });

  test('buy-X-get-Y and tiers at checkout; promotions outside their zone or window do nothing', async () => {
    const cat = await freshCategory();
    const p = await makeProduct(h, staff, { price: 1_000, categoryId: cat });
    await promote({ kind: 'BUY_X_GET_Y', buyQty: 3, getQty: 1, categoryIds: [cat] });
    expect((await cartWith([[p.id, 8]])).groups[0]!.discount).toBe(2_000);

    const cat2 = await freshCategory();
    const q = await makeProduct(h, staff, { price: 1_000, categoryId: cat2 });
    await promote({
      kind: 'TIERED',
      categoryIds: [cat2],
      tiers: [
        { minQty: 5, percentBps: 1000 },
        { minQty: 20, percentBps: 2000 },
      ],
    });
    expect((await cartWith([[q.id, 4]])).groups[0]!.discount).toBe(0);
    expect((await cartWith([[q.id, 20]])).groups[0]!.discount).toBe(4_000);

    const cat3 = await freshCategory();
    const r = await makeProduct(h, staff, { price: 1_000, categoryId: cat3 });
    const elsewhere = (await call(admin.socket, 'zones:list', {})).items.find((z) => z.id !== zoneId)!.id;
    await promote({ kind: 'PERCENT', percentBps: 5000, categoryIds: [cat3], zoneIds: [elsewhere] });
    await promote({
      kind: 'PERCENT',
      percentBps: 5000,
      categoryIds: [cat3],
      startsAt: new Date(Date.now() + hour).toISOString(),
      endsAt: new Date(Date.now() + 2 * hour).toISOString(),
    });
    expect((await cartWith([[r.id, 1]])).groups[0]!.discount).toBe(0);
  });

  test('two automatic promotions on exactly the same items at the same time are refused; bad shapes answer BAD_REQUEST', async () => {
    const cat = await freshCategory();
    const first = await promote({ kind: 'PERCENT', percentBps: 1000, categoryIds: [cat] });
    await fails(promote({ kind: 'FIXED', amount: 100, categoryIds: [cat] }), 'CONFLICT', { promotionId: first.promotion.id });
    await fails(promote({ kind: 'PERCENT', categoryIds: [cat] }), 'BAD_REQUEST', [{ path: 'percentBps', code: 'custom' }]);
    await fails(promote({ kind: 'FIXED', amount: 100, endsAt: new Date(Date.now() - 2 * hour).toISOString() }), 'BAD_REQUEST', [
      { path: 'endsAt', code: 'custom' },
    ]);
    const other = (await call(admin.socket, 'vendors:list', { status: 'APPROVED' })).items.find((v) => v.id !== vendorId)!.id;
    expect(await codeOf(promote({ kind: 'FIXED', amount: 100, vendorId: other }))).toBe('FORBIDDEN');
  });

  test('a coupon with a usage limit of 3 is used exactly 3 times by 12 concurrent checkouts; the rest pay full price', async () => {
    const cat = await freshCategory();
    const p = await makeProduct(h, staff, { price: 5_000, stock: 1000, categoryId: cat });
    const code = `SAVE${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
    const { promotion } = await promote({ kind: 'FIXED', amount: 1_000, categoryIds: [cat], couponCode: code, usageLimit: 3 });
    expect((await cartWith([[p.id, 1]])).groups[0]!.discount).toBe(0);
    const owners = await makeShops(h, admin, 12, zoneId);
    for (const o of owners) {
      await call(o.socket, 'cart:add', { productId: p.id, quantity: 1 });
      expect((await call(o.socket, 'cart:coupon', { code: code.toLowerCase() })).groups[0]!.discount).toBe(1_000);
    }
    const results = await Promise.all(owners.map((o) => call(o.socket, 'cart:checkout', { idempotencyKey: key() })));
    const discounts = results.map((r) => r.orders[0]!.discount).sort();
    expect(discounts).toEqual([...Array(9).fill(0), 1000, 1000, 1000]);
    expect((await call(manager.socket, 'promotions:get', { id: promotion.id })).usedCount).toBe(3);

    // A cancelled order gives its use back.
    const used = results.find((r) => r.orders[0]!.discount > 0)!.orders[0]!;
    await call(staff.socket, 'order:cancel', { orderId: used.id, reason: 'coupon test' });
    expect((await call(manager.socket, 'promotions:get', { id: promotion.id })).usedCount).toBe(2);
    for (const o of owners) o.socket.close();
  }, 30_000);

  test('cancelling a coupon order takes its locks in the order a checkout does: the two never deadlock', async () => {
    const cat = await freshCategory();
    const p = await makeProduct(h, staff, { price: 5_000, stock: 100, categoryId: cat });
    const code = `LOCK${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
    const { promotion } = await promote({ kind: 'FIXED', amount: 1_000, categoryIds: [cat], couponCode: code, usageLimit: 10 });
    await cartWith([[p.id, 2]]);
    await call(shop.socket, 'cart:coupon', { code });
    const [order] = (await call(shop.socket, 'cart:checkout', { idempotencyKey: key() })).orders;
    expect(order!.discount).toBe(1_000);

    // A checkout of the same coupon and product, held between its two locks: the promotion taken, the product next.
    const checkout = await LockHolder.open(h);
    await checkout.query('BEGIN');
    await checkout.query('SELECT 1 FROM promotions WHERE id = $1 FOR UPDATE', [promotion.id]);
    const cancelled = call(staff.socket, 'order:cancel', { orderId: order!.id, reason: 'lock order test' });
    await until(async () => (await checkout.waiters()) === 1);
    // Had the cancel locked the product before waiting for the promotion, this would wait for it: a deadlock.
    await checkout.query('SELECT 1 FROM products WHERE id = $1 FOR NO KEY UPDATE', [p.id]);
    await checkout.query('COMMIT');
    expect((await cancelled).status).toBe('CANCELLED');
    expect((await call(manager.socket, 'promotions:get', { id: promotion.id })).usedCount).toBe(0);
    expect((await call(staff.socket, 'products:get', { id: p.id })).stock).toBe(100);
  });

  test('a checkout whose promotion runs out as it claims it takes the next best without locking out of order', async () => {
    const cat = await freshCategory();
    const p = await makeProduct(h, staff, { price: 5_000, stock: 100, categoryId: cat });
    const next = (await promote({ kind: 'FIXED', amount: 100, productIds: [p.id] })).promotion;
    // The better one, good for one use, of higher id than the next best: claimed second, it would be locked out of order.
    const best = await oneUseAbove(next.id, cat, manager.socket);
    expect((await cartWith([[p.id, 1]])).groups[0]!.discount).toBe(500);

    // One checkout takes the last use of the best and holds it; another holds the next best, as a checkout that
    // chose both would, in id order.
    const [last, other] = await Promise.all([LockHolder.open(h), LockHolder.open(h)]);
    await last.query('BEGIN');
    await last.query('UPDATE promotions SET used_count = usage_limit WHERE id = $1', [best.id]);
    const placed = call(shop.socket, 'cart:checkout', { idempotencyKey: key() });
    await until(async () => (await last.waiters()) === 1);
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM promotions WHERE id = $1 FOR UPDATE', [next.id]);
    await last.query('COMMIT');
    // The checkout finds the best used up and goes for the next best, which it waits for.
    await until(async () => (await other.waiters()) === 1);
    // Had it kept the best's row locked meanwhile, this would wait for it while it waits here: a deadlock.
    await other.query('SELECT 1 FROM promotions WHERE id = $1 FOR UPDATE', [best.id]);
    await other.query('COMMIT');
    const [order] = (await placed).orders;
    expect({ discount: order!.discount, promotion: order!.promotion?.id }).toEqual({ discount: 100, promotion: next.id });
    expect((await call(manager.socket, 'promotions:get', { id: best.id })).usedCount).toBe(1);
  });

  test('a platform promotion too short for the vendors that chose it stays left out when the checkout runs again', async () => {
    const cat = await freshCategory();
    const staff2 = await h.login('vendor2@demo.lilium');
    await openVendors(h, admin, [(await call(staff2.socket, 'me:get', {})).vendorId!]);
    const products = [await makeProduct(h, staff, { price: 5_000, categoryId: cat }), await makeProduct(h, staff2, { price: 5_000, categoryId: cat })];
    const next = (await promote({ kind: 'FIXED', amount: 100, productIds: products.map((p) => p.id) }, admin.socket)).promotion;
    // The better one, one use left for the two vendors' orders, of higher id than the next best: the checkout leaves
    // it out, runs again rather than lock the next best behind it, and must not lock it again in that second run.
    const best = await oneUseAbove(next.id, cat, admin.socket);
    expect((await cartWith(products.map((p) => [p.id, 1]))).groups.map((g) => g.discount)).toEqual([500, 500]);

    // Another checkout holds the next best, as one that chose both would, in id order.
    const other = await LockHolder.open(h);
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM promotions WHERE id = $1 FOR UPDATE', [next.id]);
    const placed = call(shop.socket, 'cart:checkout', { idempotencyKey: key() });
    await until(async () => (await other.waiters()) === 1);
    // Had the checkout kept the best's row locked meanwhile, this would wait for it while it waits here: a deadlock.
    await other.query('SELECT 1 FROM promotions WHERE id = $1 FOR UPDATE', [best.id]);
    await other.query('COMMIT');
    const { orders } = await placed;
    expect(orders.map((o) => ({ discount: o.discount, promotion: o.promotion?.id }))).toEqual([
      { discount: 100, promotion: next.id },
      { discount: 100, promotion: next.id },
    ]);
    expect((await call(admin.socket, 'promotions:get', { id: best.id })).usedCount).toBe(0);
  });

  test('managers see their own and platform promotions, and switch off only their own', async () => {
    const platform = await promote({ kind: 'PERCENT', percentBps: 100, productIds: [(await makeProduct(h, staff)).id] }, admin.socket);
    expect(platform.promotion.vendorId).toBeNull();
    const list = await call(manager.socket, 'promotions:list', { limit: 100 });
    expect(list.items.every((p) => p.vendorId === null || p.vendorId === vendorId)).toBe(true);
    expect(await codeOf(call(manager.socket, 'promotions:set-active', { id: platform.promotion.id, active: false }))).toBe('FORBIDDEN');
    expect((await call(admin.socket, 'promotions:set-active', { id: platform.promotion.id, active: false })).active).toBe(false);
  });
});
