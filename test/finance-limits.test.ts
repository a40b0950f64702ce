import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { MAX_ORDER_MINOR, MAX_PRICE_MINOR } from '../protocol/common.js';
import { minorOf, sumMinor } from '../server/finance/money.js';
import { rejection } from './support/expect.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { deliver, placeOrder } from './support/delivery.js';
import { key, makeProduct, openVendors } from './support/ordering.js';

let h: Harness;
let admin: Session, staff1: Session, shop: Session, driver: Session;
let vendor1: string;

beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_S: '100000' } });
  [admin, staff1, shop, driver] = (await Promise.all(['admin', 'vendor1', 'shop1', 'driver2'].map((u) => h.login(`${u}@demo.lilium`)))) as [
    Session,
    Session,
    Session,
    Session,
  ];
  vendor1 = (await call(staff1.socket, 'me:get', {})).vendorId!;
  await openVendors(h, admin, [vendor1]);
  await call(driver.socket, 'driver:availability', { available: true });
});
afterAll(() => h.close());

const range = () => ({ from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 3600_000).toISOString() });

describe('cash amounts', () => {
  test('an amount far from the order total is refused with the accepted range; the reports keep answering', async () => {
    const p = await makeProduct(h, staff1, { price: 10_000 });
    const order = await placeOrder(shop, p.id, 1);
    expect(order.total).toBe(10_500);
    await deliver(staff1, driver, shop, order.id);

    const huge = await rejection(
      call(driver.socket, 'cash:collect', { orderId: order.id, amount: 9_007_199_254_740_991, reason: 'tip', idempotencyKey: key() }),
    );
    expect(huge).toMatchObject({ code: 'BAD_REQUEST', details: [{ path: 'amount', code: 'too_big' }] });

    // The default tolerance is 10% of the total either way.
    for (const amount of [0, 9_449, 11_551]) {
      const e = await rejection(call(driver.socket, 'cash:collect', { orderId: order.id, amount, reason: 'the shop paid nothing', idempotencyKey: key() }));
      expect({ code: e.code, details: e.details }).toEqual({
        code: 'AMOUNT_OUT_OF_RANGE',
        details: { expectedMinor: 10_500, minMinor: 9_450, maxMinor: 11_550 },
      });
    }
    expect(await h.q('SELECT 1 FROM cash_collections WHERE order_id = $1', [order.id])).toHaveLength(0);

    const collected = await call(driver.socket, 'cash:collect', { orderId: order.id, amount: 9_450, reason: 'short', idempotencyKey: key() });
    expect(collected).toMatchObject({ expected: 10_500, collected: 9_450, difference: -1_050 });

    const pending = await call(admin.socket, 'finance:pending-cash', {});
    expect(pending.items.find((i) => i.driverId === driver.userId)?.amount).toBe(9_450);
    expect((await call(admin.socket, 'finance:cash-flow', range())).collected).toBe(9_450);
    const handed = await call(admin.socket, 'cash:handover', { driverId: driver.userId, amount: 9_450, idempotencyKey: key() });
    expect(handed.remaining).toBe(0);
  });

  test('the tolerance is configurable', async () => {
    const strict = await startHarness({ env: { CASH_TOLERANCE_BPS: '0' } });
    try {
      const [a, s, sh, d] = await Promise.all(['admin', 'vendor1', 'shop1', 'driver2'].map((u) => strict.login(`${u}@demo.lilium`)));
      const v = (await call(s!.socket, 'me:get', {})).vendorId!;
      await openVendors(strict, a!, [v]);
      await call(d!.socket, 'driver:availability', { available: true });
      const p = await makeProduct(strict, s!, { price: 1_000 });
      const order = await placeOrder(sh!, p.id, 2);
      await deliver(s!, d!, sh!, order.id);
      const e = await rejection(call(d!.socket, 'cash:collect', { orderId: order.id, amount: 2_499, reason: 'one short', idempotencyKey: key() }));
      expect({ code: e.code, details: e.details }).toEqual({
        code: 'AMOUNT_OUT_OF_RANGE',
        details: { expectedMinor: 2_500, minMinor: 2_500, maxMinor: 2_500 },
      });
      expect((await call(d!.socket, 'cash:collect', { orderId: order.id, amount: 2_500, idempotencyKey: key() })).difference).toBe(0);
    } finally {
      await strict.close();
    }
  });

  test('money read back from the database is checked on the way out', () => {
    expect(minorOf('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(minorOf(-5)).toBe(-5);
    for (const bad of ['9007199254740992', '-9007199254740992', '1.5']) {
      expect(() => minorOf(bad)).toThrow(expect.objectContaining({ code: 'AMOUNT_OUT_OF_RANGE' }));
    }
    expect(sumMinor([1, 2, 3])).toBe(6);
    expect(() => sumMinor([Number.MAX_SAFE_INTEGER, 1])).toThrow(expect.objectContaining({ code: 'AMOUNT_OUT_OF_RANGE' }));
  });
});

describe('price and quantity bounds', () => {
  test('prices, fees and discounts are bounded in the protocol', async () => {
    expect(MAX_PRICE_MINOR).toBe(10_000_000_000);
    const tooDear = await rejection(makeProduct(h, staff1, { price: MAX_PRICE_MINOR + 1 }));
    expect(tooDear).toMatchObject({ code: 'BAD_REQUEST', details: [{ path: 'price', code: 'too_big' }] });
    const compare = await rejection(makeProduct(h, staff1, { compareAtPrice: MAX_PRICE_MINOR + 1 }));
    expect(compare).toMatchObject({ code: 'BAD_REQUEST', details: [{ path: 'compareAtPrice', code: 'too_big' }] });
    const zones = (await call(admin.socket, 'zones:list', {})).items;
    const fee = await rejection(
      call(admin.socket, 'vendors:update', { id: vendor1, zones: [{ zoneId: zones[0]!.id, deliveryFee: MAX_PRICE_MINOR + 1, minOrderValue: 0 }] }),
    );
    expect(fee).toMatchObject({ code: 'BAD_REQUEST', details: [{ path: 'zones.0.deliveryFee', code: 'too_big' }] });
  });

  test('a cart whose total would pass the order limit is refused with a code, not INTERNAL', async () => {
    const p = await makeProduct(h, staff1, { price: MAX_PRICE_MINOR, stock: 100_000 });
    await call(shop.socket, 'cart:clear', {});
    const e = await rejection(call(shop.socket, 'cart:add', { productId: p.id, quantity: 100_000 }));
    expect({ code: e.code, details: e.details }).toEqual({ code: 'AMOUNT_OUT_OF_RANGE', details: { maxMinor: MAX_ORDER_MINOR } });
    expect((await call(shop.socket, 'cart:get', {})).groups).toEqual([]);
    const cart = await call(shop.socket, 'cart:add', { productId: p.id, quantity: 999 });
    expect(cart.total).toBe(999 * MAX_PRICE_MINOR + 500);
  });
});
