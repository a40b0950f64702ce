import { sql } from '../../db/sql.js';
import type { AddressRow, CartRow } from '../../db/tables.js';
import type { Cart } from '../../protocol/index.js';
import { categoryPaths } from '../catalog/categories.service.js';
import { notFound } from '../errors.js';
import type { Ctx } from '../rpc/context.js';
import type { Reader } from '../../db/tx.js';
import type { PromotionRule } from '../promotions/rules.js';
import { price, type LineRow, type PricedCart, type PricingRows } from './price.js';

// The loading step: the queries pricing reads, answered as plain rows. The arithmetic is pure, in price.ts.
export type { PricedCart, PricedGroup } from './price.js';

/** The columns of a PromotionRule. */
export const RULE_COLUMNS = sql`id, vendor_id, name_ar, name_en, kind, percent_bps, amount_minor, buy_qty, get_qty, tiers, min_purchase_minor,
  max_discount_minor, zone_ids, product_ids, category_ids, coupon_code`;

/** The zone a cart is priced and delivered for: the chosen address's, else the default address's, else the shop's. */
export async function deliveryTarget(r: Reader, shopId: string, addressId?: string): Promise<{ zoneId: string; addressId: string | null }> {
  if (addressId) {
    const [a] = await r.query<Pick<AddressRow, 'zone_id'>>(
      sql`SELECT zone_id FROM addresses WHERE id = ${addressId} AND shop_id = ${shopId} AND deleted_at IS NULL`,
    );
    if (!a) throw notFound('address');
    return { zoneId: a.zone_id, addressId };
  }
  const [row] = await r.query<{ zone_id: string; address_id: string | null }>(
    sql`SELECT coalesce(a.zone_id, s.zone_id) AS zone_id, a.id AS address_id
          FROM shops s LEFT JOIN addresses a ON a.shop_id = s.id AND a.is_default AND a.deleted_at IS NULL WHERE s.id = ${shopId}`,
  );
  if (!row) throw notFound('shop');
  return { zoneId: row.zone_id, addressId: row.address_id };
}

const linesOf = (shopId: string, zoneId: string) => sql`
  SELECT ci.product_id, ci.quantity, ci.added_price_minor, p.name_ar, p.name_en, p.price_minor, p.stock, p.min_order_qty,
         (p.status = 'ACTIVE' AND p.deleted_at IS NULL) AS orderable, p.category_id,
         v.id AS vendor_id, v.name AS vendor_name, v.status AS vendor_status, vz.delivery_fee_minor, vz.min_order_minor,
         EXISTS (SELECT 1 FROM product_zones pz WHERE pz.product_id = p.id AND pz.zone_id = ${zoneId}) AS sold_in_zone
    FROM cart_items ci
    JOIN products p ON p.id = ci.product_id
    JOIN vendors v ON v.id = p.vendor_id
    LEFT JOIN vendor_zones vz ON vz.vendor_id = v.id AND vz.zone_id = ${zoneId}
   WHERE ci.shop_id = ${shopId}
   ORDER BY v.name, v.id, ci.added_at, ci.product_id`;

const liveRules = (vendorIds: string[], zoneId: string, coupon: string, excluded: string[]) => sql`
  SELECT ${RULE_COLUMNS} FROM promotions
   WHERE active AND starts_at <= now() AND ends_at > now()
     AND (vendor_id IS NULL OR vendor_id = ANY(${vendorIds}::uuid[]))
     AND (cardinality(zone_ids) = 0 OR ${zoneId}::uuid = ANY(zone_ids))
     AND (coupon_code IS NULL OR lower(coupon_code) = lower(${coupon}))
     AND (usage_limit IS NULL OR used_count < usage_limit)
     AND NOT (id = ANY(${excluded}::uuid[]))
   ORDER BY created_at, id`;

/** Reads what pricing a shop's cart needs: its lines as they stand now, their categories and the promotions live for them. */
export async function loadPricing(r: Reader, shopId: string, zoneId: string, opts: { excludePromotions?: string[] } = {}): Promise<PricingRows> {
  const [cartRow] = await r.query<Pick<CartRow, 'coupon_code'>>(sql`SELECT coupon_code FROM carts WHERE shop_id = ${shopId}`);
  const coupon = cartRow?.coupon_code ?? null;
  const rows = await r.query<LineRow>(linesOf(shopId, zoneId));
  const vendorIds = [...new Set(rows.map((l) => l.vendor_id))];
  const paths = await categoryPaths(
    r,
    rows.map((l) => l.category_id),
  );
  const rules = vendorIds.length ? await r.query<PromotionRule>(liveRules(vendorIds, zoneId, coupon ?? '', opts.excludePromotions ?? [])) : [];
  return { couponCode: coupon, lines: rows, categoryPaths: paths, rules };
}

/** Prices a shop's cart as it stands now (see price), in the platform's currency. */
export async function priceCart(ctx: Ctx, shopId: string, zoneId: string, opts: { excludePromotions?: string[] } = {}): Promise<PricedCart> {
  return price(await loadPricing(ctx, shopId, zoneId, opts), { zoneId, currency: ctx.deps.config.currency });
}

/** A shop's cart as it stands now, priced for the given address (else the default one): what `cart:get` answers. */
export async function readCart(r: Reader, shopId: string, currency: string, addressId?: string): Promise<Cart> {
  const { zoneId } = await deliveryTarget(r, shopId, addressId);
  return price(await loadPricing(r, shopId, zoneId), { zoneId, currency }).cart;
}
