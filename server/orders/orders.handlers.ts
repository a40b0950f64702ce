import { rpc } from '../rpc/rpc.js';
import { checkout } from './checkout.service.js';
import { acceptOrder, cancelOrder, getOrder, listOrders, prepareOrder, reduceOrder, rejectOrder, reorder } from './orders.service.js';

export const orderHandlers = [
  rpc('cart:checkout', checkout),
  rpc('orders:list', listOrders),
  rpc('orders:get', getOrder),
  rpc('order:accept', acceptOrder),
  rpc('order:reject', rejectOrder),
  rpc('order:prepare', prepareOrder),
  rpc('order:cancel', cancelOrder),
  rpc('order:reduce', reduceOrder),
  rpc('order:reorder', reorder),
];
