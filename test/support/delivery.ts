import { call } from '../../protocol/client.js';
import type { Order } from '../../protocol/ordering.js';
import type { Session } from './harness.js';
import { key } from './ordering.js';

/** Places one order of `quantity` units from the shop's cart (emptied first). */
export async function placeOrder(shop: Session, productId: string, quantity = 1): Promise<Order> {
  await call(shop.socket, 'cart:clear', {});
  await call(shop.socket, 'cart:add', { productId, quantity });
  return (await call(shop.socket, 'cart:checkout', { idempotencyKey: key() })).orders[0]!;
}

/** Vendor accepts and prepares, gives the order to the driver, the driver sets off. */
export async function dispatch(staff: Session, driver: Session, orderId: string): Promise<Order> {
  await call(staff.socket, 'order:accept', { orderId });
  await call(staff.socket, 'order:prepare', { orderId });
  await call(staff.socket, 'delivery:assign', { orderId, driverId: driver.userId });
  return call(driver.socket, 'delivery:status', { orderId, status: 'ON_THE_WAY' });
}

/** All the way to DELIVERED, with the code the shop reads out. */
export async function deliver(staff: Session, driver: Session, shop: Session, orderId: string): Promise<Order> {
  await dispatch(staff, driver, orderId);
  const { code } = await call(shop.socket, 'delivery:code', { orderId });
  return call(driver.socket, 'delivery:status', { orderId, status: 'DELIVERED', code });
}
