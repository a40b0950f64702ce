import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Driver } from '../../protocol/delivery.js';
import { AppError } from '../errors.js';
import { loadOrder, type LoadedOrder } from '../orders/orders.read.js';
import { actorOf, type Ctx } from '../rpc/context.js';
import type { Reader } from '../../db/tx.js';

interface DriverRow {
  id: string;
  name: string;
  phone: string | null;
  vendor_id: string | null;
  available: boolean;
  zone_ids: string[];
  active_orders: number;
}

const DRIVERS = `
  SELECT u.id, u.name, u.phone, u.vendor_id, coalesce(ds.available, false) AS available,
         ARRAY(SELECT uz.zone_id FROM user_zones uz WHERE uz.user_id = u.id ORDER BY uz.zone_id) AS zone_ids,
         (SELECT count(*) FROM orders o WHERE o.driver_id = u.id AND o.status IN ('ACCEPTED', 'PREPARING', 'ON_THE_WAY', 'FAILED'))::int AS active_orders
    FROM users u LEFT JOIN driver_status ds ON ds.user_id = u.id
   WHERE u.role = 'DRIVER' AND u.status = 'ACTIVE' AND u.deleted_at IS NULL`;

/** Who may carry an order: available, working in its zone, in its vendor's fleet or the platform's. */
const FOR_ORDER = `AND coalesce(ds.available, false) AND EXISTS (SELECT 1 FROM user_zones uz WHERE uz.user_id = u.id AND uz.zone_id = $1)
   AND (u.vendor_id IS NULL OR u.vendor_id = $2)`;

const toDriver = (d: DriverRow): Driver => ({
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
  return ctx.tx(async (tx) => {
    await tx.query(
      'INSERT INTO driver_status (user_id, available) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET available = EXCLUDED.available, updated_at = now()',
      [userId, available],
    );
    const [row] = await tx.query<DriverRow>(`${DRIVERS} AND u.id = $1`, [userId]);
    return toDriver(row!);
  });
}

export async function availableDrivers(ctx: Ctx, { orderId }: ParsedInputOf<'drivers:available'>): Promise<ResultOf<'drivers:available'>> {
  return ctx.read(async (r) => {
    const order = await loadOrder(r, actorOf(ctx), orderId);
    const rows = await r.query<DriverRow>(`${DRIVERS} ${FOR_ORDER} ORDER BY active_orders, u.name, u.id`, [order.zone_id, order.vendor_id]);
    return { items: rows.map(toDriver) };
  });
}

export async function assertCanCarry(r: Reader, driverId: string, order: LoadedOrder): Promise<void> {
  const [row] = await r.query(`${DRIVERS} ${FOR_ORDER} AND u.id = $3`, [order.zone_id, order.vendor_id, driverId]);
  if (!row) throw new AppError('CONFLICT', 'this driver cannot take this order: not available, not working in its zone, or in another fleet');
}
