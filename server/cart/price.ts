import { MAX_ORDER_MINOR } from '../../protocol/common.js';
import type { Cart, CartProblem } from '../../protocol/ordering.js';
import type { CartItemRow, ProductRow, VendorRow, VendorZoneRow } from '../../db/tables.js';
import { AppError } from '../errors.js';
import { sumMinor, timesMinor } from '../finance/money.js';
import { bestOf, type PricedLine, type PromotionRule } from '../promotions/rules.js';

// Pricing as arithmetic on loaded rows: no database, no clock, so every rule here is unit-tested on its own.

/** One cart line with its product and the vendor's terms for the zone, as the lines query (pricing.ts) returns it. */
export type LineRow = Pick<CartItemRow, 'product_id' | 'quantity' | 'added_price_minor'> &
  Pick<ProductRow, 'name_ar' | 'name_en' | 'price_minor' | 'stock' | 'min_order_qty' | 'category_id'> & {
    orderable: boolean;
    vendor_id: VendorRow['id'];
    vendor_name: VendorRow['name'];
    vendor_status: VendorRow['status'];
    /** Null when the vendor does not deliver to the zone. */
    delivery_fee_minor: VendorZoneRow['delivery_fee_minor'] | null;
    min_order_minor: VendorZoneRow['min_order_minor'] | null;
    sold_in_zone: boolean;
  };

/** Everything pricing reads. */
export interface PricingRows {
  couponCode: string | null;
  /** Grouped by vendor (ordered by vendor name, then id), each vendor's lines in the order they were added. */
  lines: LineRow[];
  /** A category's id → that category and every category above it. */
  categoryPaths: Map<string, string[]>;
  /** The promotions live for these vendors, zone and coupon, oldest first (ties go to the older one). */
  rules: PromotionRule[];
}

/** A cart line as pricing and checkout use it: one per cart row; the cart's view is derived from it. */
export interface CartLine extends PricedLine {
  nameAr: string;
  nameEn: string;
  categoryId: string;
  addedPrice: number;
  stock: number;
  minOrderQty: number;
  problems: CartProblem[];
}

/** One vendor group as checkout needs it: the cart's view plus the lines and the promotion chosen. */
export interface PricedGroup {
  view: Cart['groups'][number];
  lines: CartLine[];
  promotion: PromotionRule | null;
}

export interface PricedCart {
  cart: Cart;
  groups: PricedGroup[];
}

/** A line as clients see it, in a cart or on an order: its localized name and its total. */
export const lineView = (l: { productId: string; nameAr: string; nameEn: string; unitPrice: number; quantity: number }) => ({
  productId: l.productId,
  name: { ar: l.nameAr, en: l.nameEn },
  unitPrice: l.unitPrice,
  quantity: l.quantity,
  lineTotal: timesMinor(l.unitPrice, l.quantity),
});

const problem = (code: CartProblem['code'], message: string): CartProblem => ({ code, message });

/** What stops one line from being ordered now. */
export function lineProblems(l: LineRow): CartProblem[] {
  const out: CartProblem[] = [];
  if (!l.orderable) out.push(problem('PRODUCT_UNAVAILABLE', 'this product is no longer sold'));
  if (!l.sold_in_zone) out.push(problem('OUT_OF_ZONE', 'this product is not sold in the delivery zone'));
  if (l.quantity > l.stock) out.push(problem('OUT_OF_STOCK', l.stock === 0 ? 'out of stock' : `only ${l.stock} left`));
  if (l.quantity < l.min_order_qty) out.push(problem('BELOW_MIN_QTY', `order at least ${l.min_order_qty}`));
  if (l.price_minor !== l.added_price_minor) out.push(problem('PRICE_CHANGED', `the price changed from ${l.added_price_minor} to ${l.price_minor}`));
  return out;
}

/** What stops a vendor group; the minimum order value is measured on the subtotal before discount. */
export function groupProblems(vendor: Pick<LineRow, 'vendor_status' | 'delivery_fee_minor' | 'min_order_minor'>, subtotal: number): CartProblem[] {
  const out: CartProblem[] = [];
  if (vendor.vendor_status !== 'APPROVED') out.push(problem('VENDOR_UNAVAILABLE', 'this vendor is not taking orders'));
  if (vendor.delivery_fee_minor === null) out.push(problem('OUT_OF_ZONE', 'this vendor does not deliver to the zone'));
  else if (subtotal < (vendor.min_order_minor ?? 0)) out.push(problem('MIN_ORDER_NOT_MET', `the minimum order is ${vendor.min_order_minor ?? 0}`));
  return out;
}

const toLine = (l: LineRow, categoryPaths: Map<string, string[]>): CartLine => ({
  productId: l.product_id,
  categoryId: l.category_id,
  categoryPath: categoryPaths.get(l.category_id) ?? [],
  unitPrice: l.price_minor,
  quantity: l.quantity,
  nameAr: l.name_ar,
  nameEn: l.name_en,
  addedPrice: l.added_price_minor,
  stock: l.stock,
  minOrderQty: l.min_order_qty,
  problems: lineProblems(l),
});

const itemView = (l: CartLine): Cart['groups'][number]['items'][number] => ({
  ...lineView(l),
  addedPrice: l.addedPrice,
  stock: l.stock,
  minOrderQty: l.minOrderQty,
  problems: l.problems,
});

/** One vendor's group: its lines priced, the best single promotion among those open to the vendor, its problems. */
function priceGroup(vendorRows: LineRow[], categoryPaths: Map<string, string[]>, rules: PromotionRule[]): PricedGroup {
  const vendor = vendorRows[0]!;
  const lines = vendorRows.map((l) => toLine(l, categoryPaths));
  const subtotal = sumMinor(lines.map((l) => timesMinor(l.unitPrice, l.quantity)));
  const best = bestOf(
    rules.filter((p) => p.vendor_id === null || p.vendor_id === vendor.vendor_id),
    lines,
  );
  const discount = best?.discount ?? 0;
  const deliveryFee = vendor.delivery_fee_minor ?? 0;
  return {
    lines,
    promotion: best?.rule ?? null,
    view: {
      vendor: { id: vendor.vendor_id, name: vendor.vendor_name },
      items: lines.map(itemView),
      subtotal,
      discount,
      promotion: best ? { id: best.rule.id, name: { ar: best.rule.name_ar, en: best.rule.name_en }, couponCode: best.rule.coupon_code } : null,
      deliveryFee,
      total: subtotal - discount + deliveryFee,
      minOrderValue: vendor.min_order_minor ?? 0,
      problems: groupProblems(vendor, subtotal),
    },
  };
}

/**
 * Prices a cart from its loaded rows: current prices, the vendor's terms for the zone, and per vendor group the
 * best single promotion. A cart totalling more than MAX_ORDER_MINOR answers AMOUNT_OUT_OF_RANGE.
 */
export function price(rows: PricingRows, { zoneId, currency }: { zoneId: string; currency: string }): PricedCart {
  const byVendor = new Map<string, LineRow[]>();
  for (const l of rows.lines) {
    const vendorRows = byVendor.get(l.vendor_id);
    if (vendorRows) vendorRows.push(l);
    else byVendor.set(l.vendor_id, [l]);
  }
  const groups = [...byVendor.values()].map((vendorRows) => priceGroup(vendorRows, rows.categoryPaths, rows.rules));
  const views = groups.map((g) => g.view);
  const total = sumMinor(views.map((g) => g.total));
  // Every order, and so every cash amount and ledger line, stays far inside the safe integers.
  if (total > MAX_ORDER_MINOR) throw new AppError('AMOUNT_OUT_OF_RANGE', `a cart totals at most ${MAX_ORDER_MINOR}`, { maxMinor: MAX_ORDER_MINOR });
  return {
    groups,
    cart: {
      groups: views,
      zoneId,
      couponCode: rows.couponCode,
      total,
      currency,
      ready: views.length > 0 && views.every((g) => g.problems.length === 0 && g.items.every((i) => i.problems.length === 0)),
    },
  };
}
