import type { Order, OrderStatus } from '../../protocol/ordering.js';
import { sql, type Sql } from '../../db/sql.js';
import type { OrderItemRow, OrderRow, PromotionRow, ShopRow, VendorRow } from '../../db/tables.js';
import { adminRooms, rooms } from '../auth/actor.js';
import { zoneScope } from '../auth/zone-scope.js';
import { lineView } from '../cart/price.js';
import { notFound } from '../errors.js';
import type { Actor } from '../auth/actor.js';
import type { Reader } from '../../db/tx.js';
import { isAdmin } from '../auth/zone-scope.js';

/** An order as ORDER_SELECT reads it: its row, its vendor's and promotion's names, its shop's owner and name, its items and its timeline. */
export type LoadedOrder = Omit<OrderRow, 'status' | 'updated_at' | 'accepted_at' | 'on_the_way_at' | 'escalated_at'> & {
  status: OrderStatus;
  vendor_name: VendorRow['name'];
  /** The shop's owner and name, for what the order's steps tell them (orders/notices.ts); not part of the Order. */
  shop_owner_id: ShopRow['owner_id'];
  shop_name: ShopRow['name'];
  promotion_name_ar: PromotionRow['name_ar'] | null;
  promotion_name_en: PromotionRow['name_en'] | null;
  coupon_code: PromotionRow['coupon_code'];
  /** created_at at full precision, for cursors. */
  created_key: string;
  items: Array<{
    productId: OrderItemRow['product_id'];
    nameAr: OrderItemRow['name_ar'];
    nameEn: OrderItemRow['name_en'];
    categoryId: OrderItemRow['category_id'];
    unitPrice: OrderItemRow['unit_price_minor'];
    quantity: OrderItemRow['quantity'];
    orderedQuantity: OrderItemRow['ordered_quantity'];
  }>;
  timeline: Array<{ status: OrderStatus; at: string; by: string | null; reason: string | null }>;
};

export const ORDER_SELECT = sql`
  SELECT o.id, o.number, o.checkout_id, o.shop_id, o.vendor_id, v.name AS vendor_name, s.owner_id AS shop_owner_id, s.name AS shop_name, o.zone_id, o.address_id, o.status,
         o.subtotal_minor, o.discount_minor, o.delivery_fee_minor, o.total_minor, o.currency, o.commission_bps, o.promotion_id,
         pr.name_ar AS promotion_name_ar, pr.name_en AS promotion_name_en, pr.coupon_code, o.note, o.driver_id, o.delivery_code, o.code_failures, o.eta_at, o.delivered_at, o.created_at, o.accept_by, o.expire_at,
         o.created_at::text AS created_key,
         coalesce((SELECT json_agg(json_build_object('productId', i.product_id, 'nameAr', i.name_ar, 'nameEn', i.name_en, 'categoryId', i.category_id,
                    'unitPrice', i.unit_price_minor, 'quantity', i.quantity, 'orderedQuantity', i.ordered_quantity) ORDER BY i.name_en, i.product_id)
                     FROM order_items i WHERE i.order_id = o.id), '[]') AS items,
         coalesce((SELECT json_agg(json_build_object('status', e.status, 'at', e.at, 'by', e.actor_id, 'reason', e.reason) ORDER BY e.id)
                     FROM order_events e WHERE e.order_id = o.id), '[]') AS timeline
    FROM orders o JOIN vendors v ON v.id = o.vendor_id JOIN shops s ON s.id = o.shop_id LEFT JOIN promotions pr ON pr.id = o.promotion_id`;

export const toOrder = (o: LoadedOrder): Order => ({
  id: o.id,
  number: o.number,
  checkoutId: o.checkout_id,
  shopId: o.shop_id,
  vendorId: o.vendor_id,
  vendorName: o.vendor_name,
  zoneId: o.zone_id,
  addressId: o.address_id,
  status: o.status,
  items: o.items.map((i) => ({ ...lineView(i), orderedQuantity: i.orderedQuantity })),
  subtotal: o.subtotal_minor,
  discount: o.discount_minor,
  promotion: o.promotion_id ? { id: o.promotion_id, name: { ar: o.promotion_name_ar!, en: o.promotion_name_en! }, couponCode: o.coupon_code } : null,
  deliveryFee: o.delivery_fee_minor,
  total: o.total_minor,
  currency: o.currency,
  commissionBps: o.commission_bps,
  note: o.note,
  driverId: o.driver_id,
  eta: o.eta_at ? new Date(o.eta_at).toISOString() : null,
  deliveredAt: o.delivered_at ? new Date(o.delivered_at).toISOString() : null,
  createdAt: new Date(o.created_at).toISOString(),
  acceptBy: o.accept_by ? new Date(o.accept_by).toISOString() : null,
  expireAt: o.expire_at ? new Date(o.expire_at).toISOString() : null,
  timeline: o.timeline.map((e) => ({ status: e.status, at: new Date(e.at).toISOString(), by: e.by, reason: e.reason })),
});

/** The platform itself (a deadline, or a reload after a change the caller was allowed to make): every order. */
export const SYSTEM = 'system';

/** Which orders a caller reaches: a shop its own, staff their vendor's, a driver those assigned, admins all (or their zones'). */
export function orderScope(actor: Actor | typeof SYSTEM): Sql {
  if (actor === SYSTEM) return sql`true`;
  if (isAdmin(actor.role)) return zoneScope(actor, 'order', sql`o.id`);
  if (actor.role === 'SHOP_OWNER') return sql`o.shop_id = ${actor.shopId}`;
  if (actor.role === 'DRIVER') return sql`o.driver_id = ${actor.userId}`;
  return sql`o.vendor_id = ${actor.vendorId}`;
}

/** One order the caller reaches; another's is simply not found. `lock` holds its row until the transaction ends. */
export async function loadOrder(r: Reader, actor: Actor | typeof SYSTEM, id: string, lock = false): Promise<LoadedOrder> {
  // The lock and the read in one round trip: the read, a statement of its own, sees the order as the lock left it.
  const locked = lock ? r.query(sql`SELECT 1 FROM orders WHERE id = ${id} FOR UPDATE`.prepared()) : null;
  const [[row]] = await Promise.all([r.query<LoadedOrder>(sql`${ORDER_SELECT} WHERE o.id = ${id} AND ${orderScope(actor)}`.prepared()), locked]);
  if (!row) throw notFound('order');
  return row;
}

export const orderRooms = (o: Pick<LoadedOrder, 'shop_id' | 'vendor_id' | 'driver_id' | 'zone_id'>): string[] => [
  rooms.shop(o.shop_id),
  rooms.vendor(o.vendor_id),
  ...adminRooms([o.zone_id]),
  ...(o.driver_id ? [rooms.driver(o.driver_id)] : []),
];
