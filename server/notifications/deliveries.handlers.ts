import { rpc } from '../rpc/rpc.js';
import { listDeliveries, retryDelivery } from './deliveries.js';

export const deliveryAdminHandlers = [
  rpc('notifications:deliveries', (ctx, input) => listDeliveries(ctx, input)),
  rpc('notifications:deliveries:retry', (ctx, input) => retryDelivery(ctx, input)),
];
