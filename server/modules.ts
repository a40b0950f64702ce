import { addressHandlers } from './addresses/addresses.handlers.js';
import { authHandlers } from './auth/auth.handlers.js';
import { cartHandlers } from './cart/cart.handlers.js';
import { catalogHandlers } from './catalog/catalog.handlers.js';
import { deliveryHandlers } from './delivery/delivery.handlers.js';
import { financeHandlers } from './finance/finance.handlers.js';
import { notificationHandlers } from './notifications/notifications.handlers.js';
import { deviceHandlers } from './notifications/devices.handlers.js';
import { deliveryAdminHandlers } from './notifications/deliveries.handlers.js';
import { startDeadlineJobs } from './orders/deadlines.js';
import { orderHandlers } from './orders/orders.handlers.js';
import { feedHandlers } from './outbox/feed.handlers.js';
import { promotionHandlers } from './promotions/promotions.handlers.js';
import type { Registration } from './rpc/rpc.js';
import type { Deps } from './deps.js';
import { startImports } from './catalog/import.service.js';
import { startDeliveries } from './notifications/delivery-worker.js';
import { userHandlers } from './users/users.handlers.js';
import { vendorHandlers } from './vendors/vendors.handlers.js';
import { zoneHandlers } from './zones/zones.handlers.js';

/** Every domain's handlers. Adding a domain: one schema file in protocol/, one folder here, one line below. */
export const handlers: Registration[] = [
  ...authHandlers,
  ...userHandlers,
  ...zoneHandlers,
  ...addressHandlers,
  ...feedHandlers,
  ...vendorHandlers,
  ...catalogHandlers,
  ...promotionHandlers,
  ...cartHandlers,
  ...orderHandlers,
  ...deliveryHandlers,
  ...financeHandlers,
  ...notificationHandlers,
  ...deviceHandlers,
  ...deliveryAdminHandlers,
];

/** Every domain's job workers, started on every node once the database is migrated. */
export const workers: Array<(deps: Deps) => Promise<void>> = [startDeliveries, startImports, startDeadlineJobs];
