import { toSafeInteger } from '../../db/columns.js';
import { sql, type Sql } from '../../db/sql.js';
import type { CartRow } from '../../db/tables.js';
import type { Cart } from '../../protocol/index.js';
import { notFound } from '../errors.js';
import type { Reader } from '../../db/tx.js';
import type { PromotionRule } from '../promotions/rules.js';
import { price, type LineRow, type PricingRows } from './price.js';

// The loading step: the queries pricing reads, answered as plain rows. The arithmetic is pure, in price.ts.
export type { PricedCart, PricedGroup } from './price.js';

/** The columns of a PromotionRule. */
export const RULE_COLUMNS = sql`id, vendor_id, name_ar, name_en, kind, percent_bps, amount_minor, buy_qty, get_qty, tiers, min_purchase_minor,
  max_discount_minor, zone_ids, product_ids, category_ids, coupon_code`;

/** The zone a cart is priced and delivered for: the chosen address's, else the default address's, else the shop's. */
const targetOf = (shopId: string, addressId?: string) =>
  addressId
    ? sql`SELECT zone_id, id AS address_id FROM addresses WHERE id = ${addressId} AND shop_id = ${shopId} AND deleted_at IS NULL`
    : sql`SELECT coalesce(a.zone_id, s.zone_id) AS zone_id, a.id AS address_id
            FROM shops s LEFT JOIN addresses a ON a.shop_id = s.id AND a.is_default AND a.deleted_at IS NULL WHERE s.id = ${shopId} LIMIT 1`;

/**
 * Everything pricing reads about a shop's cart, in one statement: the delivery zone (from `target`, a query of
 * one row `(zone_id, address_id)`), the coupon, the lines as they stand now, each with its category and every
 * category above it, and the promotions live for the lines' vendors. One row per line, in the order pricing groups
 * them (vendor name, vendor, then the order they were added); an empty cart is one row without a line; no row at
 * all when the target has none. The rules ride on the first row only, as JSON, as `tiers` always has.
 */
const cartOf = (shopId: string, target: Sql, excluded: string[]) =>
  sql`
  WITH target AS (${target}),
  lines AS (
    SELECT ci.product_id, ci.quantity, ci.added_price_minor, p.name_ar, p.name_en, p.price_minor, p.stock, p.min_order_qty,
           (p.status = 'ACTIVE' AND p.deleted_at IS NULL) AS orderable, p.category_id,
           v.id AS vendor_id, v.name AS vendor_name, v.status AS vendor_status, vz.delivery_fee_minor, vz.min_order_minor,
           pz.product_id IS NOT NULL AS sold_in_zone,
           (WITH RECURSIVE up AS (
              SELECT c.id, c.parent_id FROM categories c WHERE c.id = p.category_id
              UNION ALL
              SELECT c.id, c.parent_id FROM up JOIN categories c ON c.id = up.parent_id
            ) SELECT array_agg(id) FROM up) AS category_path,
           row_number() OVER (ORDER BY v.name, v.id, ci.added_at, ci.product_id) AS ord
      FROM target t
     CROSS JOIN cart_items ci
      JOIN products p ON p.id = ci.product_id
      JOIN vendors v ON v.id = p.vendor_id
      LEFT JOIN vendor_zones vz ON vz.vendor_id = v.id AND vz.zone_id = t.zone_id
      -- Its primary key (product, zone) makes this at most one row per line.
      LEFT JOIN product_zones pz ON pz.product_id = p.id AND pz.zone_id = t.zone_id
     WHERE ci.shop_id = ${shopId}
  ),
  cart AS (SELECT coupon_code FROM carts WHERE shop_id = ${shopId})
  SELECT t.zone_id, t.address_id, (SELECT coupon_code FROM cart) AS coupon_code, l.*,
         CASE WHEN l.ord = 1 THEN (
           SELECT coalesce(jsonb_agg(to_jsonb(r) - 'created_at' ORDER BY r.created_at, r.id), '[]')
             FROM (SELECT ${RULE_COLUMNS}, created_at FROM promotions
                    WHERE active AND starts_at <= now() AND ends_at > now()
                      AND (vendor_id IS NULL OR vendor_id IN (SELECT vendor_id FROM lines))
                      AND (cardinality(zone_ids) = 0 OR t.zone_id = ANY(zone_ids))
                      AND (coupon_code IS NULL OR lower(coupon_code) = lower(coalesce((SELECT coupon_code FROM cart), '')))
                      AND (usage_limit IS NULL OR used_count < usage_limit)
                      AND NOT (id = ANY(${excluded}::uuid[]))) r
         ) END AS rules
    FROM target t
    LEFT JOIN lines l ON true
   ORDER BY l.ord`.prepared();

type CartRowOf = { zone_id: string; address_id: string | null; coupon_code: CartRow['coupon_code'] } & (
  (LineRow & { category_path: string[]; rules: PromotionRule[] | null }) | { [K in keyof LineRow]: null }
);

/** The rows of `cartOf` as pricing takes them, with the zone and address they were read for; null when there were none. */
async function readPricing(r: Reader, shopId: string, target: Sql, excluded: string[]) {
  const rows = await r.query<CartRowOf>(cartOf(shopId, target, excluded));
  const [first] = rows;
  if (!first) return null;
  const lines = rows.filter((l): l is Extract<CartRowOf, { category_path: string[] }> => l.product_id !== null);
  const pricing: PricingRows = {
    couponCode: first.coupon_code,
    lines,
    categoryPaths: new Map(lines.map((l) => [l.category_id, l.category_path])),
    rules: (lines[0]?.rules ?? []).map(safeRule),
  };
  return { zoneId: first.zone_id, addressId: first.address_id, pricing };
}

/** JSON carries int8 as a plain number: a value past the safe integers is refused as the int8 parser refuses it. */
const safeRule = (rule: PromotionRule): PromotionRule => {
  for (const n of [rule.amount_minor, rule.min_purchase_minor, rule.max_discount_minor]) if (n !== null) toSafeInteger(n);
  return rule;
};

/**
 * What checkout prices from, in one statement: the delivery target (see `targetOf`; NOT_FOUND when the address is not
 * the shop's, or is deleted) and the cart's rows for it, leaving out the promotions in `excludePromotions`.
 */
export async function loadPricing(
  r: Reader,
  shopId: string,
  addressId: string | undefined,
  opts: { excludePromotions?: string[] } = {},
): Promise<{ zoneId: string; addressId: string | null; pricing: PricingRows }> {
  const read = await readPricing(r, shopId, targetOf(shopId, addressId), opts.excludePromotions ?? []);
  if (!read) throw notFound(addressId ? 'address' : 'shop');
  return read;
}

/** A shop's cart as it stands now, priced for the given address (else the default one): what `cart:get` answers. */
export async function readCart(r: Reader, shopId: string, currency: string, addressId?: string): Promise<Cart> {
  const read = await readPricing(r, shopId, targetOf(shopId, addressId), []);
  if (!read) throw notFound(addressId ? 'address' : 'shop');
  return price(read.pricing, { zoneId: read.zoneId, currency }).cart;
}
