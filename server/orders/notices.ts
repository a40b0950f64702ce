import type { NotificationKind } from '../../protocol/notifications.js';
import type { Order, OrderStatus } from '../../protocol/ordering.js';
import { notify, notifyMany } from '../notifications/notify.js';
import { formatMoney } from '../notifications/templates.js';
import type { TxCtx } from '../rpc/context.js';
import type { LoadedOrder } from './orders.read.js';

/** What the shop owner is told when its order reaches a status; other steps (PREPARING) are not news to it. */
const SHOP_NEWS: Partial<Record<OrderStatus, NotificationKind>> = {
  ACCEPTED: 'order.accepted',
  REJECTED: 'order.rejected',
  CANCELLED: 'order.cancelled',
  ON_THE_WAY: 'order.on_the_way',
  DELIVERED: 'order.delivered',
  FAILED: 'order.failed',
  EXPIRED: 'order.expired',
};

/** The order's shop as the order was loaded with it (ORDER_SELECT): who hears of its steps, and the name they see. */
type ShopOf = Pick<LoadedOrder, 'shop_owner_id' | 'shop_name'>;

const linkTo = (order: Pick<Order, 'id'>) => ({ type: 'order' as const, id: order.id });
/** Whole minutes until the ETA, at least one. */
const minutesUntil = (iso: string) => Math.max(1, Math.ceil((Date.parse(iso) - Date.now()) / 60_000));

/** Each vendor's staff and managers (`staff`, read with the orders: vendorStaffIds) hear of its new order, all in one go. */
export async function noticeNewOrders(ctx: TxCtx, shopName: string, orders: Array<{ order: Order; staff: string[] }>): Promise<void> {
  await notifyMany(
    ctx,
    orders.map(({ order: o, staff }) => ({
      kind: 'order.new',
      userIds: staff,
      vars: { number: o.number, shop: shopName, total: formatMoney(o.total, o.currency) },
      link: linkTo(o),
    })),
  );
}

/** After a status change: the shop owner hears what concerns it, and a driver whose assigned order was cancelled hears to stop. */
export async function noticeStatus(ctx: TxCtx, before: LoadedOrder, after: Order, reason: string | null): Promise<void> {
  const kind = SHOP_NEWS[after.status];
  if (!kind) return;
  const vars = {
    number: after.number,
    vendor: after.vendorName,
    total: formatMoney(after.total, after.currency),
    reason: reason ?? '—',
    ...(after.eta ? { etaMin: minutesUntil(after.eta) } : {}),
  };
  await notify(ctx, { kind, userIds: [before.shop_owner_id], vars, link: linkTo(after) });
  if (after.status === 'CANCELLED' && before.driver_id) {
    await notify(ctx, {
      kind: 'delivery.cancelled',
      userIds: [before.driver_id],
      vars: { number: after.number, shop: before.shop_name, reason: reason ?? '—' },
      link: linkTo(after),
    });
  }
}

/** The shop owner hears that the vendor lowered quantities, and the new total. */
export async function noticeReduced(ctx: TxCtx, shop: ShopOf, after: Order, reason: string): Promise<void> {
  await notify(ctx, {
    kind: 'order.reduced',
    userIds: [shop.shop_owner_id],
    vars: { number: after.number, vendor: after.vendorName, reason, total: formatMoney(after.total, after.currency) },
    link: linkTo(after),
  });
}

/** The driver given the order hears of it; the one it was taken from hears why. */
export async function noticeAssigned(ctx: TxCtx, shop: ShopOf, after: Order, previousDriver: string | null, reason: string | null): Promise<void> {
  await notify(ctx, {
    kind: 'delivery.assigned',
    userIds: [after.driverId!],
    vars: { number: after.number, vendor: after.vendorName, shop: shop.shop_name },
    link: linkTo(after),
  });
  // No link: the order is out of that driver's reach now.
  if (previousDriver) await notify(ctx, { kind: 'delivery.unassigned', userIds: [previousDriver], vars: { number: after.number, reason: reason ?? '—' } });
}
