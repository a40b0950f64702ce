import type { Promotion } from '../../protocol/promotions.js';
import type { PromotionRow } from '../../db/tables.js';
import { sumMinor, timesMinor } from '../finance/money.js';

/** A promotions row, its kind as the contract names it (the column is text). */
export type PromotionOf = Omit<PromotionRow, 'kind'> & { kind: Promotion['kind'] };

/** A promotion as pricing needs it. */
export type PromotionRule = Pick<
  PromotionOf,
  | 'id'
  | 'vendor_id'
  | 'name_ar'
  | 'name_en'
  | 'kind'
  | 'percent_bps'
  | 'amount_minor'
  | 'buy_qty'
  | 'get_qty'
  | 'tiers'
  | 'min_purchase_minor'
  | 'max_discount_minor'
  | 'zone_ids'
  | 'product_ids'
  | 'category_ids'
  | 'coupon_code'
>;

export interface PricedLine {
  productId: string;
  /** The product's category and every category above it. */
  categoryPath: string[];
  unitPrice: number;
  quantity: number;
}

export function appliesTo(rule: PromotionRule, line: PricedLine): boolean {
  if (rule.product_ids.length === 0 && rule.category_ids.length === 0) return true;
  return rule.product_ids.includes(line.productId) || rule.category_ids.some((c) => line.categoryPath.includes(c));
}

/**
 * A percentage (in basis points) of an amount, rounded down to the minor unit, so a discount never exceeds what
 * the rate gives. Exact in integers, as commissionOf (finance/ledger.ts) is: amount × bps passes 2^53 for large
 * amounts, where a floating-point product would round before the division. Amounts here are never negative.
 */
export function percentOf(amount: number, bps: number): number {
  return Number((BigInt(amount) * BigInt(bps)) / 10_000n);
}

/**
 * The discount one promotion gives a vendor group, in minor units: 0 when it does not apply.
 * Eligible lines are those the promotion targets; the minimum purchase counts only them.
 * Buy X get Y is counted per line (every X+Y units of one product, Y are free).
 * The cap applies last, and a discount never exceeds the eligible subtotal. Sums are checked: an amount past the
 * safe integers answers AMOUNT_OUT_OF_RANGE, never a wrong number.
 */
export function discountOf(rule: PromotionRule, lines: PricedLine[]): number {
  const eligible = lines.filter((l) => appliesTo(rule, l));
  const subtotal = sumMinor(eligible.map((l) => timesMinor(l.unitPrice, l.quantity)));
  if (eligible.length === 0 || subtotal < rule.min_purchase_minor) return 0;
  let discount = 0;
  switch (rule.kind) {
    case 'PERCENT':
      discount = percentOf(subtotal, rule.percent_bps!);
      break;
    case 'FIXED':
      discount = rule.amount_minor!;
      break;
    case 'BUY_X_GET_Y': {
      const bundle = rule.buy_qty! + rule.get_qty!;
      discount = sumMinor(eligible.map((l) => timesMinor(Math.floor(l.quantity / bundle) * rule.get_qty!, l.unitPrice)));
      break;
    }
    case 'TIERED': {
      const units = eligible.reduce((s, l) => s + l.quantity, 0);
      const tier = [...rule.tiers!].reverse().find((t) => units >= t.minQty);
      discount = tier ? percentOf(subtotal, tier.percentBps) : 0;
      break;
    }
  }
  if (rule.max_discount_minor !== null) discount = Math.min(discount, rule.max_discount_minor);
  return Math.min(discount, subtotal);
}

/** The single best promotion for a group: the largest discount; ties go to the older promotion (listed first). */
export function bestOf(rules: PromotionRule[], lines: PricedLine[]): { rule: PromotionRule; discount: number } | null {
  let best: { rule: PromotionRule; discount: number } | null = null;
  for (const rule of rules) {
    const discount = discountOf(rule, lines);
    if (discount > 0 && (!best || discount > best.discount)) best = { rule, discount };
  }
  return best;
}
