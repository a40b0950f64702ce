import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Driver } from '../../protocol/delivery.js';
import { sql, type Sql } from '../../db/sql.js';
import type { DriverStatusRow, OrderRow, UserRow } from '../../db/tables.js';
import type { Reader } from '../../db/tx.js';
import { AppError } from '../errors.js';
import { loadOrder } from '../orders/orders.read.js';
import { actorOf, type Ctx } from '../rpc/context.js';

/** Statuses of an order a driver has in hand (or is about to): they count as the driver's load. */
export const UNDER_WAY = ['ACCEPTED', 'PREPARING', 'ON_THE_WAY', 'FAILED'] as const;

type DriverView = Pick<UserRow, 'id' | 'name' | 'phone' | 'vendor_id'> & Pick<DriverStatusRow, 'available'> & { zone_ids: string[]; active_orders: number };

/** Active drivers, each with availability, zones and load, narrowed by `where`. */
const drivers = (where: Sql) => sql`
  SELECT u.id, u.name, u.phone, u.vendor_id, coalesce(ds.available, false) AS available,
         ARRAY(SELECT uz.zone_id FROM user_zones uz WHERE uz.user_id = u.id ORDER BY uz.zone_id) AS zone_ids,
         (SELECT count(*) FROM orders o WHERE o.driver_id = u.id AND o.status = ANY(${UNDER_WAY}::text[]))::int AS active_orders
    FROM users u LEFT JOIN driver_status ds ON ds.user_id = u.id
   WHERE u.role = 'DRIVER' AND u.status = 'ACTIVE' AND u.deleted_at IS NULL AND ${where}`;

/** Who may carry an order: available, working in its zone, in its vendor's fleet or the platform's. */
const mayCarry = (order: Pick<OrderRow, 'zone_id' | 'vendor_id'>) =>
  sql`coalesce(ds.available, false) AND EXISTS (SELECT 1 FROM user_zones uz WHERE uz.user_id = u.id AND uz.zone_id = ${order.zone_id})
   AND (u.vendor_id IS NULL OR u.vendor_id = ${order.vendor_id})`;

const toDriver = (d: DriverView): Driver => ({
  id: d.id,
  name: d.name,
  phone: d.phone,
  vendorId: d.vendor_id,
  zoneIds: d.zone_ids,
  available: d.available,
  activeOrders: d.active_orders,
});

export async function setAvailability(ctx: Ctx, { available }: ParsedInputOf<'driver:availability'>): Promise<ResultOf<'driver:availability'>> {
  const { userId } = actorOf(ctx);
  return ctx.tx(async (ctx) => {
    await ctx.query(sql`
      INSERT INTO driver_status (user_id, available) VALUES (${userId}, ${available})
      ON CONFLICT (user_id) DO UPDATE SET available = EXCLUDED.available, updated_at = now()`);
    const [row] = await ctx.query<DriverView>(drivers(sql`u.id = ${userId}`));
    return toDriver(row!);
  });
}

export async function availableDrivers(ctx: Ctx, { orderId }: ParsedInputOf<'drivers:available'>): Promise<ResultOf<'drivers:available'>> {
  const order = await loadOrder(ctx, actorOf(ctx), orderId);
  const rows = await ctx.query<DriverView>(sql`${drivers(mayCarry(order))} ORDER BY active_orders, u.name, u.id`.prepared());
  return { items: rows.map(toDriver) };
}

export async function assertCanCarry(r: Reader, driverId: string, order: Pick<OrderRow, 'zone_id' | 'vendor_id'>): Promise<void> {
  const [row] = await r.query(drivers(sql`${mayCarry(order)} AND u.id = ${driverId}`).prepared());
  if (!row) throw new AppError('CONFLICT', 'this driver cannot take this order: not available, not working in its zone, or in another fleet');
}
