import { MAX_ORDER_MINOR } from '../../protocol/common.js';
import type { Cart, CartProblem } from '../../protocol/ordering.js';
import { categoryPaths } from '../catalog/categories.service.js';
import { AppError, notFound } from '../errors.js';
import { sumMinor, timesMinor } from '../finance/money.js';
import type { Reader } from '../../db/tx.js';
import { RULE_COLUMNS, bestOf, type PricedLine, type PromotionRule } from '../promotions/rules.js';

interface LineRow {
  product_id: string;
  quantity: number;
  added_price_minor: number;
  name_ar: string;
  name_en: string;
  price_minor: number;
  stock: number;
  min_order_qty: number;
  orderable: boolean;
  category_id: string;
  vendor_id: string;
  vendor_name: string;
  vendor_status: string;
  delivery_fee_minor: number | null;
  min_order_minor: number | null;
  sold_in_zone: boolean;
}

/** One vendor group as checkout needs it: the cart's view plus the rows and the promotion chosen. */
export interface PricedGroup {
  view: Cart['groups'][number];
  lines: Array<PricedLine & { nameAr: string; nameEn: string; categoryId: string }>;
  promotion: PromotionRule | null;
}

export interface PricedCart {
  cart: Cart;
  groups: PricedGroup[];
}

/** The zone a cart is priced and delivered for: the chosen address's, else the default address's, else the shop's. */
export async function deliveryTarget(r: Reader, shopId: string, addressId?: string): Promise<{ zoneId: string; addressId: string | null }> {
  if (addressId) {
    const [a] = await r.query<{ zone_id: string }>('SELECT zone_id FROM addresses WHERE id = $1 AND shop_id = $2 AND deleted_at IS NULL', [addressId, shopId]);
    if (!a) throw notFound('address');
    return { zoneId: a.zone_id, addressId };
  }
  const [row] = await r.query<{ zone_id: string; address_id: string | null }>(
    `SELECT coalesce(a.zone_id, s.zone_id) AS zone_id, a.id AS address_id
       FROM shops s LEFT JOIN addresses a ON a.shop_id = s.id AND a.is_default AND a.deleted_at IS NULL WHERE s.id = $1`,
    [shopId],
  );
  if (!row) throw notFound('shop');
  return { zoneId: row.zone_id, addressId: row.address_id };
}

const LINES_SQL = `
  SELECT ci.product_id, ci.quantity, ci.added_price_minor, p.name_ar, p.name_en, p.price_minor, p.stock, p.min_order_qty,
         (p.status = 'ACTIVE' AND p.deleted_at IS NULL) AS orderable, p.category_id,
         v.id AS vendor_id, v.name AS vendor_name, v.status AS vendor_status, vz.delivery_fee_minor, vz.min_order_minor,
         EXISTS (SELECT 1 FROM product_zones pz WHERE pz.product_id = p.id AND pz.zone_id = $2) AS sold_in_zone
    FROM cart_items ci
    JOIN products p ON p.id = ci.product_id
    JOIN vendors v ON v.id = p.vendor_id
    LEFT JOIN vendor_zones vz ON vz.vendor_id = v.id AND vz.zone_id = $2
   WHERE ci.shop_id = $1
   ORDER BY v.name, v.id, ci.added_at, ci.product_id`;

const PROMOTIONS_SQL = `
  SELECT ${RULE_COLUMNS} FROM promotions
   WHERE active AND starts_at <= now() AND ends_at > now()
     AND (vendor_id IS NULL OR vendor_id = ANY($1::uuid[]))
     AND (cardinality(zone_ids) = 0 OR $2 = ANY(zone_ids))
     AND (coupon_code IS NULL OR lower(coupon_code) = lower($3))
     AND (usage_limit IS NULL OR used_count < usage_limit)
     AND NOT (id = ANY($4::uuid[]))
   ORDER BY created_at, id`;

const problem = (code: CartProblem['code'], message: string): CartProblem => ({ code, message });

function lineProblems(l: LineRow): CartProblem[] {
  const out: CartProblem[] = [];
  if (!l.orderable) out.push(problem('PRODUCT_UNAVAILABLE', 'this product is no longer sold'));
  if (!l.sold_in_zone) out.push(problem('OUT_OF_ZONE', 'this product is not sold in the delivery zone'));
  if (l.quantity > l.stock) out.push(problem('OUT_OF_STOCK', l.stock === 0 ? 'out of stock' : `only ${l.stock} left`));
  if (l.quantity < l.min_order_qty) out.push(problem('BELOW_MIN_QTY', `order at least ${l.min_order_qty}`));
  if (l.price_minor !== l.added_price_minor) out.push(problem('PRICE_CHANGED', `the price changed from ${l.added_price_minor} to ${l.price_minor}`));
  return out;
}

/**
 * Prices a shop's cart as it stands now: current prices, the vendor's terms for the zone, and per vendor group
 * the best single promotion. The minimum order value is measured on the subtotal before discount.
 */
export async function priceCart(r: Reader, shopId: string, zoneId: string, currency: string, opts: { excludePromotions?: string[] } = {}): Promise<PricedCart> {
  const [cartRow] = await r.query<{ coupon_code: string | null }>('SELECT coupon_code FROM carts WHERE shop_id = $1', [shopId]);
  const coupon = cartRow?.coupon_code ?? null;
  const rows = await r.query<LineRow>(LINES_SQL, [shopId, zoneId]);
  const vendorIds = [...new Set(rows.map((l) => l.vendor_id))];
  const paths = await categoryPaths(
    r,
    rows.map((l) => l.category_id),
  );
  const rules = vendorIds.length ? await r.query<PromotionRule>(PROMOTIONS_SQL, [vendorIds, zoneId, coupon ?? '', opts.excludePromotions ?? []]) : [];

  const groups: PricedGroup[] = [];
  for (const vendorId of vendorIds) {
    const vendorRows = rows.filter((l) => l.vendor_id === vendorId);
    const first = vendorRows[0]!;
    const lines = vendorRows.map((l) => ({
      productId: l.product_id,
      categoryId: l.category_id,
      categoryPath: paths.get(l.category_id) ?? [],
      unitPrice: l.price_minor,
      quantity: l.quantity,
      nameAr: l.name_ar,
      nameEn: l.name_en,
    }));
    const subtotal = sumMinor(lines.map((l) => timesMinor(l.unitPrice, l.quantity)));
    const best = bestOf(
      rules.filter((p) => p.vendor_id === null || p.vendor_id === vendorId),
      lines,
    );
    const discount = best?.discount ?? 0;
    const deliveryFee = first.delivery_fee_minor ?? 0;
    const minOrderValue = first.min_order_minor ?? 0;
    const problems: CartProblem[] = [];
    if (first.vendor_status !== 'APPROVED') problems.push(problem('VENDOR_UNAVAILABLE', 'this vendor is not taking orders'));
    if (first.delivery_fee_minor === null) problems.push(problem('OUT_OF_ZONE', 'this vendor does not deliver to the zone'));
    else if (subtotal < minOrderValue) problems.push(problem('MIN_ORDER_NOT_MET', `the minimum order is ${minOrderValue}`));
    groups.push({
      lines,
      promotion: best?.rule ?? null,
      view: {
        vendor: { id: vendorId, name: first.vendor_name },
        items: vendorRows.map((l) => ({
          productId: l.product_id,
          name: { ar: l.name_ar, en: l.name_en },
          unitPrice: l.price_minor,
          addedPrice: l.added_price_minor,
          quantity: l.quantity,
          lineTotal: timesMinor(l.price_minor, l.quantity),
          stock: l.stock,
          minOrderQty: l.min_order_qty,
          problems: lineProblems(l),
        })),
        subtotal,
        discount,
        promotion: best ? { id: best.rule.id, name: { ar: best.rule.name_ar, en: best.rule.name_en }, couponCode: best.rule.coupon_code } : null,
        deliveryFee,
        total: subtotal - discount + deliveryFee,
        minOrderValue,
        problems,
      },
    });
  }
  const views = groups.map((g) => g.view);
  const total = sumMinor(views.map((g) => g.total));
  // Every order, and so every cash amount and ledger line, stays far inside the safe integers.
  if (total > MAX_ORDER_MINOR) throw new AppError('AMOUNT_OUT_OF_RANGE', `a cart totals at most ${MAX_ORDER_MINOR}`, { maxMinor: MAX_ORDER_MINOR });
  return {
    groups,
    cart: {
      groups: views,
      zoneId,
      couponCode: coupon,
      total,
      currency,
      ready: views.length > 0 && views.every((g) => g.problems.length === 0 && g.items.every((i) => i.problems.length === 0)),
    },
  };
}
