import { describe, expect, test } from 'vitest';
import { MAX_ORDER_MINOR } from '../../protocol/common.js';
import { price, lineView, type LineRow, type PricingRows } from '../../server/cart/price.js';
import { toOrder, type LoadedOrder } from '../../server/orders/orders.read.js';
import type { PromotionRule } from '../../server/promotions/rules.js';
import { rule, thrown } from '../support/rules.js';

// Cart pricing from plain rows, without a database.

const V1 = { vendor_id: 'v1', vendor_name: 'Alpha' };
const V2 = { vendor_id: 'v2', vendor_name: 'Beta' };

const row = (r: Partial<LineRow> & Pick<LineRow, 'product_id'>): LineRow => ({
  quantity: 1,
  added_price_minor: r.price_minor ?? 1000,
  name_ar: `ar ${r.product_id}`,
  name_en: `en ${r.product_id}`,
  price_minor: 1000,
  stock: 100,
  min_order_qty: 1,
  orderable: true,
  category_id: 'c1',
  ...V1,
  vendor_status: 'APPROVED',
  delivery_fee_minor: 500,
  min_order_minor: 0,
  sold_in_zone: true,
  ...r,
});

const rowsOf = (lines: LineRow[], rules: PromotionRule[] = [], extra: Partial<PricingRows> = {}): PricingRows => ({
  couponCode: null,
  lines,
  categoryPaths: new Map([['c1', ['c1', 'root']]]),
  rules,
  ...extra,
});
const at = { zoneId: 'z1', currency: 'EGP' };

describe('price', () => {
  test('groups by vendor in row order, one line per row, the whole cart exact', () => {
    const fiveOff = rule({ id: 'five-off', vendor_id: 'v2', kind: 'FIXED', amount_minor: 5, coupon_code: 'SAVE' });
    const priced = price(
      rowsOf(
        [
          row({ product_id: 'a', quantity: 3, price_minor: 12_345 }),
          row({ product_id: 'b', ...V2, delivery_fee_minor: 0, min_order_minor: 100 }),
          row({ product_id: 'c', quantity: 2 }),
        ],
        [fiveOff],
        {
          couponCode: 'SAVE',
        },
      ),
      at,
    );
    expect(priced.cart).toEqual({
      groups: [
        {
          vendor: { id: 'v1', name: 'Alpha' },
          items: [
            {
              productId: 'a',
              name: { ar: 'ar a', en: 'en a' },
              unitPrice: 12_345,
              addedPrice: 12_345,
              quantity: 3,
              lineTotal: 37_035,
              stock: 100,
              minOrderQty: 1,
              problems: [],
            },
            {
              productId: 'c',
              name: { ar: 'ar c', en: 'en c' },
              unitPrice: 1000,
              addedPrice: 1000,
              quantity: 2,
              lineTotal: 2000,
              stock: 100,
              minOrderQty: 1,
              problems: [],
            },
          ],
          subtotal: 39_035,
          discount: 0,
          promotion: null,
          deliveryFee: 500,
          total: 39_535,
          minOrderValue: 0,
          problems: [],
        },
        {
          vendor: { id: 'v2', name: 'Beta' },
          items: [
            {
              productId: 'b',
              name: { ar: 'ar b', en: 'en b' },
              unitPrice: 1000,
              addedPrice: 1000,
              quantity: 1,
              lineTotal: 1000,
              stock: 100,
              minOrderQty: 1,
              problems: [],
            },
          ],
          subtotal: 1000,
          discount: 5,
          promotion: { id: 'five-off', name: { ar: 'ar five-off', en: 'en five-off' }, couponCode: 'SAVE' },
          deliveryFee: 0,
          total: 995,
          minOrderValue: 100,
          problems: [],
        },
      ],
      zoneId: 'z1',
      couponCode: 'SAVE',
      total: 40_530,
      currency: 'EGP',
      ready: true,
    });
    // Checkout's lines are the same lines the view shows, with what it stores beside them.
    expect(priced.groups.map((g) => g.promotion?.id ?? null)).toEqual([null, 'five-off']);
    expect(priced.groups[0]!.lines).toEqual([
      {
        productId: 'a',
        categoryId: 'c1',
        categoryPath: ['c1', 'root'],
        unitPrice: 12_345,
        quantity: 3,
        nameAr: 'ar a',
        nameEn: 'en a',
        addedPrice: 12_345,
        stock: 100,
        minOrderQty: 1,
        problems: [],
      },
      {
        productId: 'c',
        categoryId: 'c1',
        categoryPath: ['c1', 'root'],
        unitPrice: 1000,
        quantity: 2,
        nameAr: 'ar c',
        nameEn: 'en c',
        addedPrice: 1000,
        stock: 100,
        minOrderQty: 1,
        problems: [],
      },
    ]);
    priced.cart.groups.forEach((view, k) => expect(view).toBe(priced.groups[k]!.view));
  });

  test('an empty cart totals 0 and is not ready', () => {
    expect(price(rowsOf([], [], { couponCode: 'KEPT' }), at)).toEqual({
      groups: [],
      cart: { groups: [], zoneId: 'z1', couponCode: 'KEPT', total: 0, currency: 'EGP', ready: false },
    });
  });

  test('the best single promotion per vendor group; a vendor’s promotion never reaches another vendor', () => {
    const everyone = rule({ id: 'everyone', percent_bps: 1000 });
    const alphaOnly = rule({ id: 'alpha-only', vendor_id: 'v1', kind: 'FIXED', amount_minor: 300 });
    const priced = price(rowsOf([row({ product_id: 'a', quantity: 2 }), row({ product_id: 'b', ...V2, quantity: 5 })], [everyone, alphaOnly]), at);
    expect(priced.cart.groups.map((g) => [g.vendor.id, g.promotion?.id, g.discount, g.total])).toEqual([
      ['v1', 'alpha-only', 300, 2000 - 300 + 500],
      ['v2', 'everyone', 500, 5000 - 500 + 500],
    ]);
    expect(priced.groups.map((g) => g.promotion)).toEqual([alphaOnly, everyone]);
  });

  test('ties go to the older promotion (listed first)', () => {
    const older = rule({ id: 'older', percent_bps: 1000 });
    const newer = rule({ id: 'newer', kind: 'FIXED', amount_minor: 300 });
    const lines = [row({ product_id: 'a', quantity: 3 })];
    expect(price(rowsOf(lines, [older, newer]), at).cart.groups[0]).toMatchObject({ discount: 300, promotion: { id: 'older' } });
    expect(price(rowsOf(lines, [newer, older]), at).cart.groups[0]).toMatchObject({ discount: 300, promotion: { id: 'newer' } });
  });

  test('category paths let a promotion on a parent category reach the lines below it', () => {
    const onRoot = rule({ id: 'on-root', percent_bps: 2000, category_ids: ['root'] });
    const lines = [row({ product_id: 'a' }), row({ product_id: 'b', category_id: 'elsewhere' })];
    expect(price(rowsOf(lines, [onRoot]), at).cart.groups[0]).toMatchObject({ subtotal: 2000, discount: 200, total: 2300 });
    expect(price(rowsOf(lines, [onRoot], { categoryPaths: new Map() }), at).cart.groups[0]).toMatchObject({ discount: 0, promotion: null });
  });

  test('buy X get Y and tiers price a group exactly', () => {
    const bxgy = rule({ id: 'bxgy', kind: 'BUY_X_GET_Y', buy_qty: 2, get_qty: 1 });
    const tiers = rule({
      id: 'tiers',
      kind: 'TIERED',
      tiers: [
        { minQty: 5, percentBps: 500 },
        { minQty: 20, percentBps: 2500 },
      ],
    });
    // 7 units of 999: buy X get Y gives 2 × 999 = 1998; the 5-unit tier gives 5% of 6993 = 349.
    expect(price(rowsOf([row({ product_id: 'a', quantity: 7, price_minor: 999 })], [tiers, bxgy]), at).cart.groups[0]).toMatchObject({
      subtotal: 6993,
      discount: 1998,
      promotion: { id: 'bxgy' },
      total: 6993 - 1998 + 500,
    });
    // 21 units: buy X get Y 7 × 999 = 6993; the 20-unit tier 25% of 20_979 = 5244 (5244.75 rounds down).
    expect(price(rowsOf([row({ product_id: 'a', quantity: 21, price_minor: 999 })], [tiers, bxgy]), at).cart.groups[0]).toMatchObject({
      subtotal: 20_979,
      discount: 6993,
      promotion: { id: 'bxgy' },
    });
    expect(price(rowsOf([row({ product_id: 'a', quantity: 21, price_minor: 999 })], [tiers]), at).cart.groups[0]).toMatchObject({ discount: 5244 });
  });
});

describe('problems', () => {
  const itemProblems = (r: Partial<LineRow>) => price(rowsOf([row({ product_id: 'a', ...r })]), at).cart.groups[0]!.items[0]!.problems;

  test('each line problem with its message', () => {
    expect(itemProblems({ stock: 0 })).toEqual([{ code: 'OUT_OF_STOCK', message: 'out of stock' }]);
    expect(itemProblems({ stock: 2, quantity: 3 })).toEqual([{ code: 'OUT_OF_STOCK', message: 'only 2 left' }]);
    expect(itemProblems({ stock: 3, quantity: 3 })).toEqual([]);
    expect(itemProblems({ min_order_qty: 5, quantity: 4 })).toEqual([{ code: 'BELOW_MIN_QTY', message: 'order at least 5' }]);
    expect(itemProblems({ min_order_qty: 5, quantity: 5 })).toEqual([]);
    expect(itemProblems({ price_minor: 1100, added_price_minor: 1000 })).toEqual([{ code: 'PRICE_CHANGED', message: 'the price changed from 1000 to 1100' }]);
    expect(itemProblems({ orderable: false })).toEqual([{ code: 'PRODUCT_UNAVAILABLE', message: 'this product is no longer sold' }]);
    expect(itemProblems({ sold_in_zone: false })).toEqual([{ code: 'OUT_OF_ZONE', message: 'this product is not sold in the delivery zone' }]);
    expect(
      itemProblems({ orderable: false, sold_in_zone: false, stock: 0, min_order_qty: 2, price_minor: 900, added_price_minor: 1000 }).map((p) => p.code),
    ).toEqual(['PRODUCT_UNAVAILABLE', 'OUT_OF_ZONE', 'OUT_OF_STOCK', 'BELOW_MIN_QTY', 'PRICE_CHANGED']);
  });

  test('a changed price is charged at the current price, and the cart is not ready', () => {
    const { cart } = price(rowsOf([row({ product_id: 'a', quantity: 2, price_minor: 1100, added_price_minor: 1000 })]), at);
    expect(cart.groups[0]).toMatchObject({ items: [{ unitPrice: 1100, addedPrice: 1000, lineTotal: 2200 }], subtotal: 2200, problems: [] });
    expect(cart.ready).toBe(false);
  });

  test('group problems: vendor unavailable, not delivering to the zone, minimum order measured before discount', () => {
    const groupOf = (lines: LineRow[], rules: PromotionRule[] = []) => price(rowsOf(lines, rules), at).cart.groups[0]!;
    expect(groupOf([row({ product_id: 'a', vendor_status: 'SUSPENDED' })]).problems).toEqual([
      { code: 'VENDOR_UNAVAILABLE', message: 'this vendor is not taking orders' },
    ]);
    // Not delivering: no fee and no minimum-order check (the minimum belongs to the zone terms that do not exist).
    expect(groupOf([row({ product_id: 'a', delivery_fee_minor: null, min_order_minor: null })])).toMatchObject({
      deliveryFee: 0,
      minOrderValue: 0,
      total: 1000,
      problems: [{ code: 'OUT_OF_ZONE', message: 'this vendor does not deliver to the zone' }],
    });
    const half = rule({ id: 'half', percent_bps: 5000 });
    const exactly = groupOf([row({ product_id: 'a', quantity: 2, min_order_minor: 2000 })], [half]);
    expect(exactly).toMatchObject({ subtotal: 2000, discount: 1000, minOrderValue: 2000, problems: [] });
    const short = groupOf([row({ product_id: 'a', price_minor: 1999, min_order_minor: 2000 })], [half]);
    expect(short.problems).toEqual([{ code: 'MIN_ORDER_NOT_MET', message: 'the minimum order is 2000' }]);
    const both = groupOf([row({ product_id: 'a', vendor_status: 'PENDING', min_order_minor: 5000 })]);
    expect(both.problems.map((p) => p.code)).toEqual(['VENDOR_UNAVAILABLE', 'MIN_ORDER_NOT_MET']);
  });

  test('one problem anywhere makes the cart not ready; other groups keep theirs', () => {
    const { cart } = price(rowsOf([row({ product_id: 'a' }), row({ product_id: 'b', ...V2, stock: 0 })]), at);
    expect(cart.groups.map((g) => g.items.flatMap((i) => i.problems.map((p) => p.code)))).toEqual([[], ['OUT_OF_STOCK']]);
    expect(cart.ready).toBe(false);
  });
});

describe('bounds', () => {
  test('a cart totals at most MAX_ORDER_MINOR, delivery fees included', () => {
    const atBound = [row({ product_id: 'a', price_minor: MAX_ORDER_MINOR / 10, quantity: 10, delivery_fee_minor: 0 })];
    expect(price(rowsOf(atBound), at).cart.total).toBe(MAX_ORDER_MINOR);
    const e = thrown(() => price(rowsOf([row({ product_id: 'a', price_minor: MAX_ORDER_MINOR / 10, quantity: 10, delivery_fee_minor: 1 })]), at));
    expect([e.code, e.message, e.details]).toEqual(['AMOUNT_OUT_OF_RANGE', `a cart totals at most ${MAX_ORDER_MINOR}`, { maxMinor: MAX_ORDER_MINOR }]);
    const twoVendors = [row({ product_id: 'a', price_minor: MAX_ORDER_MINOR, delivery_fee_minor: 0 }), row({ product_id: 'b', ...V2, price_minor: 1 })];
    expect(thrown(() => price(rowsOf(twoVendors), at)).details).toEqual({ maxMinor: MAX_ORDER_MINOR });
  });

  test('sums past the safe integers answer AMOUNT_OUT_OF_RANGE through the money helpers', () => {
    const line = thrown(() => price(rowsOf([row({ product_id: 'a', price_minor: Number.MAX_SAFE_INTEGER, quantity: 2 })]), at));
    expect([line.code, line.details]).toEqual(['AMOUNT_OUT_OF_RANGE', { maxMinor: Number.MAX_SAFE_INTEGER, value: '18014398509481982' }]);
    const sum = thrown(() => price(rowsOf([row({ product_id: 'a', price_minor: Number.MAX_SAFE_INTEGER - 1 }), row({ product_id: 'b', price_minor: 2 })]), at));
    expect([sum.code, sum.details]).toEqual(['AMOUNT_OUT_OF_RANGE', { maxMinor: Number.MAX_SAFE_INTEGER, value: '9007199254740992' }]);
  });
});

describe('lineView', () => {
  test('one view of a line for carts and orders: its localized name and total', () => {
    expect(lineView({ productId: 'a', nameAr: 'أ', nameEn: 'A', unitPrice: 12_345, quantity: 3 })).toEqual({
      productId: 'a',
      name: { ar: 'أ', en: 'A' },
      unitPrice: 12_345,
      quantity: 3,
      lineTotal: 37_035,
    });
  });

  test('an order’s items are that view with the quantity first ordered', () => {
    const item = { productId: 'a', nameAr: 'أ', nameEn: 'A', categoryId: 'c1', unitPrice: 250, quantity: 0, orderedQuantity: 4 };
    const order = toOrder({
      created_at: new Date('2026-01-01T00:00:00Z'),
      eta_at: null,
      delivered_at: null,
      timeline: [],
      items: [item, { ...item, productId: 'b', quantity: 3, orderedQuantity: 3 }],
    } as unknown as LoadedOrder);
    expect(order.items).toEqual([
      { productId: 'a', name: { ar: 'أ', en: 'A' }, unitPrice: 250, quantity: 0, orderedQuantity: 4, lineTotal: 0 },
      { productId: 'b', name: { ar: 'أ', en: 'A' }, unitPrice: 250, quantity: 3, orderedQuantity: 3, lineTotal: 750 },
    ]);
  });
});
