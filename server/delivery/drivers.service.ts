import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Driver } from '../../protocol/delivery.js';
import { sql, type Sql } from '../../db/sql.js';
import type { DriverStatusRow, UserRow } from '../../db/tables.js';
import type { Reader } from '../../db/tx.js';
import { notFound } from '../errors.js';
import { orderScope } from '../orders/orders.read.js';
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
   WHERE ${ACTIVE_DRIVER} AND ${where}`;

const ACTIVE_DRIVER = sql`u.role = 'DRIVER' AND u.status = 'ACTIVE' AND u.deleted_at IS NULL`;

/** Who may carry an order of this zone and vendor (values or columns): available, working in the zone, in the vendor's fleet or the platform's. */
const mayCarry = (zoneId: Sql, vendorId: Sql) =>
  sql`coalesce(ds.available, false) AND EXISTS (SELECT 1 FROM user_zones uz WHERE uz.user_id = u.id AND uz.zone_id = ${zoneId})
   AND (u.vendor_id IS NULL OR u.vendor_id = ${vendorId})`;

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
  // One statement: the order as the caller reaches it (no row: not found) with the drivers who may carry it (none: a row of nulls).
  const rows = await ctx.query<Omit<DriverView, 'id'> & { id: string | null }>(
    sql`SELECT d.* FROM orders o
          LEFT JOIN LATERAL (${drivers(mayCarry(sql`o.zone_id`, sql`o.vendor_id`))}) d ON true
         WHERE o.id = ${orderId} AND ${orderScope(actorOf(ctx))}
         ORDER BY d.active_orders, d.name, d.id`.prepared(),
  );
  if (rows.length === 0) throw notFound('order');
  return { items: rows.flatMap(({ id, ...d }) => (id === null ? [] : [toDriver({ id, ...d })])) };
}

/**
 * Whether a driver may carry an order, read by the order's id: it needs nothing the caller has read, so it goes in one
 * round trip with the order's own lock and read.
 */
export async function canCarry(r: Reader, driverId: string, orderId: string): Promise<boolean> {
  const rows = await r.query(
    sql`
    SELECT 1 FROM users u LEFT JOIN driver_status ds ON ds.user_id = u.id JOIN orders o ON o.id = ${orderId}
     WHERE u.id = ${driverId} AND ${ACTIVE_DRIVER} AND ${mayCarry(sql`o.zone_id`, sql`o.vendor_id`)}`.prepared(),
  );
  return rows.length > 0;
}
