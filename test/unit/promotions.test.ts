import { describe, expect, test } from 'vitest';
import { commissionOf } from '../../server/finance/ledger.js';
import { bestOf, discountOf, percentOf } from '../../server/promotions/rules.js';
import { line, rule, thrown } from '../support/rules.js';

// Promotion and commission arithmetic, without a database.

describe('rounding', () => {
  test('a percent discount rounds down, the commission half up: 999 at 12.5% is 124 off and 125 commission', () => {
    expect(percentOf(999, 1250)).toBe(124); // 124.875
    expect(commissionOf(999, 1250)).toBe(125);
    expect(percentOf(1, 5000)).toBe(0); // 0.5
    expect(commissionOf(1, 5000)).toBe(1);
    expect(percentOf(10_005, 1000)).toBe(1000); // 1000.5
    expect(commissionOf(10_005, 1000)).toBe(1001);
    expect(percentOf(3, 1666)).toBe(0); // 0.4998
    expect(commissionOf(3, 1666)).toBe(0);
    expect(percentOf(0, 1250)).toBe(0);
    expect(percentOf(12_345, 10_000)).toBe(12_345);
    expect(discountOf(rule({ percent_bps: 1250 }), [line(333, 3)])).toBe(124);
  });

  test('both are exact in integers where a floating-point product is not', () => {
    const amount = 9_999_968_910_006; // × 3333 = 33_329_896_377_049_998, past 2^53
    expect(Math.floor((amount * 3333) / 10_000)).toBe(3_332_989_637_705); // what floating point gives: one too many
    expect(percentOf(amount, 3333)).toBe(3_332_989_637_704);
    expect(commissionOf(amount, 3333)).toBe(3_332_989_637_705); // …704.9998 rounds up
    expect(discountOf(rule({ percent_bps: 3333 }), [line(amount, 1)])).toBe(3_332_989_637_704);
    const tiered = rule({ kind: 'TIERED', tiers: [{ minQty: 1, percentBps: 3333 }] });
    expect(discountOf(tiered, [line(amount, 1)])).toBe(3_332_989_637_704);
  });
});

describe('discountOf', () => {
  test('the cap applies last; a discount never exceeds the eligible subtotal', () => {
    expect(discountOf(rule({ percent_bps: 5000, max_discount_minor: 300 }), [line(1000, 1)])).toBe(300);
    expect(discountOf(rule({ percent_bps: 5000, max_discount_minor: 600 }), [line(1000, 1)])).toBe(500);
    expect(discountOf(rule({ kind: 'FIXED', amount_minor: 5000 }), [line(1000, 2)])).toBe(2000);
    expect(discountOf(rule({ kind: 'FIXED', amount_minor: 5000, max_discount_minor: 1500 }), [line(1000, 2)])).toBe(1500);
    // Only product a is eligible: the discount stops at a's 1000, not the group's 11000.
    expect(discountOf(rule({ kind: 'FIXED', amount_minor: 5000, product_ids: ['a'] }), [line(1000, 1, 'a'), line(10_000, 1, 'b')])).toBe(1000);
    expect(discountOf(rule({ percent_bps: 10_000 }), [line(700, 3)])).toBe(2100);
  });

  test('the minimum purchase counts only eligible lines and is reached at equality', () => {
    const r = rule({ percent_bps: 1000, min_purchase_minor: 2000, product_ids: ['a'] });
    expect(discountOf(r, [line(1000, 1, 'a'), line(5000, 1, 'b')])).toBe(0);
    expect(discountOf(r, [line(1000, 2, 'a'), line(5000, 1, 'b')])).toBe(200);
    expect(discountOf(r, [line(1999, 1, 'a')])).toBe(0);
    expect(discountOf(rule({ kind: 'FIXED', amount_minor: 100, min_purchase_minor: 2001 }), [line(1000, 2)])).toBe(0);
  });

  test('buy X get Y: of every X+Y units of one product, Y are free', () => {
    const bxgy = rule({ kind: 'BUY_X_GET_Y', buy_qty: 2, get_qty: 1 });
    expect([2, 3, 5, 6, 7, 9].map((q) => discountOf(bxgy, [line(100, q)]))).toEqual([0, 100, 100, 200, 200, 300]);
    // Per product, never pooled across lines.
    expect(discountOf(bxgy, [line(100, 2, 'a'), line(100, 2, 'b')])).toBe(0);
    expect(discountOf(bxgy, [line(100, 3, 'a'), line(250, 4, 'b')])).toBe(350);
    const threeForFive = rule({ kind: 'BUY_X_GET_Y', buy_qty: 3, get_qty: 2 });
    expect(discountOf(threeForFive, [line(250, 10)])).toBe(1000);
    expect(discountOf(threeForFive, [line(250, 14)])).toBe(1000);
    expect(discountOf({ ...threeForFive, max_discount_minor: 600 }, [line(250, 10)])).toBe(600);
    // Only targeted products count.
    expect(discountOf({ ...bxgy, product_ids: ['b'] }, [line(100, 3, 'a'), line(250, 4, 'b')])).toBe(250);
  });

  test('tiered: the highest tier the eligible units reach gives its percentage', () => {
    const tiered = rule({
      kind: 'TIERED',
      tiers: [
        { minQty: 10, percentBps: 500 },
        { minQty: 50, percentBps: 1000 },
        { minQty: 100, percentBps: 1500 },
      ],
    });
    expect(discountOf(tiered, [line(100, 9)])).toBe(0);
    expect(discountOf(tiered, [line(100, 10)])).toBe(50);
    expect(discountOf(tiered, [line(100, 49)])).toBe(245);
    expect(discountOf(tiered, [line(100, 30, 'a'), line(100, 20, 'b')])).toBe(500); // units add up across lines
    expect(discountOf(tiered, [line(100, 100)])).toBe(1500);
    expect(discountOf(tiered, [line(333, 10)])).toBe(166); // 166.5 rounds down
    const onlyA = { ...tiered, product_ids: ['a'] };
    expect(discountOf(onlyA, [line(100, 30, 'a'), line(100, 20, 'b')])).toBe(150); // b's units do not count
  });

  test('targets: none means every line; products; categories with everything below them', () => {
    expect(discountOf(rule({ percent_bps: 1000 }), [line(1000, 1, 'a'), line(500, 2, 'b')])).toBe(200);
    expect(discountOf(rule({ percent_bps: 1000, product_ids: ['b'] }), [line(1000, 1, 'a'), line(500, 2, 'b')])).toBe(100);
    const parent = rule({ percent_bps: 1000, category_ids: ['parent'] });
    expect(discountOf(parent, [line(1000, 1, 'a', ['leaf', 'parent']), line(1000, 1, 'b', ['other'])])).toBe(100);
    expect(discountOf(parent, [line(1000, 1, 'b', ['other'])])).toBe(0);
  });

  test('sums past the safe integers answer AMOUNT_OUT_OF_RANGE, never a wrong number', () => {
    const e = thrown(() => discountOf(rule({ percent_bps: 1000 }), [line(Number.MAX_SAFE_INTEGER, 2)]));
    expect([e.code, e.details]).toEqual(['AMOUNT_OUT_OF_RANGE', { maxMinor: Number.MAX_SAFE_INTEGER, value: '18014398509481982' }]);
    const sum = thrown(() => discountOf(rule({ percent_bps: 1000 }), [line(Number.MAX_SAFE_INTEGER - 1, 1), line(2, 1)]));
    expect([sum.code, sum.details]).toEqual(['AMOUNT_OUT_OF_RANGE', { maxMinor: Number.MAX_SAFE_INTEGER, value: '9007199254740992' }]);
    // At the bound itself the arithmetic is still exact.
    expect(discountOf(rule({ percent_bps: 5000 }), [line(Number.MAX_SAFE_INTEGER, 1)])).toBe(4_503_599_627_370_495);
  });
});

describe('bestOf', () => {
  const tenPercent = rule({ id: 'ten-percent', percent_bps: 1000 });
  const hundredOff = rule({ id: 'hundred-off', kind: 'FIXED', amount_minor: 100 });
  const fiftyOff = rule({ id: 'fifty-off', kind: 'FIXED', amount_minor: 50 });
  const farAway = rule({ id: 'far-away', percent_bps: 5000, min_purchase_minor: 1_000_000 });

  test('the single largest discount wins', () => {
    expect(bestOf([fiftyOff, tenPercent, farAway], [line(2000, 1)])).toEqual({ rule: tenPercent, discount: 200 });
    expect(bestOf([tenPercent, fiftyOff], [line(300, 1)])).toEqual({ rule: fiftyOff, discount: 50 });
  });

  test('ties go to the older promotion, the one listed first', () => {
    expect(bestOf([tenPercent, hundredOff], [line(1000, 1)])).toEqual({ rule: tenPercent, discount: 100 });
    expect(bestOf([hundredOff, tenPercent], [line(1000, 1)])).toEqual({ rule: hundredOff, discount: 100 });
  });

  test('nothing when no promotion gives anything', () => {
    expect(bestOf([], [line(1000, 1)])).toBeNull();
    expect(bestOf([farAway, rule({ id: 'tiny', percent_bps: 1 })], [line(99, 1)])).toBeNull(); // 0.0099 rounds to 0
  });
});
