import type { PricedLine, PromotionRule } from '../../server/promotions/rules.js';
import { AppError } from '../../server/errors.js';

/** A promotion rule for arithmetic tests: a percent rule open to everything, named after its id, with what a test sets. */
export const rule = (r: Partial<PromotionRule>): PromotionRule => ({
  id: 'r',
  vendor_id: null,
  name_ar: `ar ${r.id ?? 'r'}`,
  name_en: `en ${r.id ?? 'r'}`,
  kind: 'PERCENT',
  percent_bps: null,
  amount_minor: null,
  buy_qty: null,
  get_qty: null,
  tiers: null,
  min_purchase_minor: 0,
  max_discount_minor: null,
  zone_ids: [],
  product_ids: [],
  category_ids: [],
  coupon_code: null,
  ...r,
});

/** A priced line of one product in category `c` unless told. */
export const line = (unitPrice: number, quantity: number, productId = 'p', categoryPath = ['c']): PricedLine => ({
  productId,
  unitPrice,
  quantity,
  categoryPath,
});

/** What a call throws, so a test checks the whole error. */
export function thrown(f: () => unknown): AppError {
  try {
    f();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}
