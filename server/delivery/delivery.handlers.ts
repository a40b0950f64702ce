import { rpc } from '../rpc/rpc.js';
import { assignDriver, bulkStatus, confirmOverride, deliveryCode, deliveryStatus, reportLocation } from './delivery.service.js';
import { availableDrivers, setAvailability } from './drivers.service.js';

export const deliveryHandlers = [
  rpc('driver:availability', setAvailability),
  rpc('drivers:available', availableDrivers),
  rpc('delivery:assign', assignDriver),
  rpc('delivery:status', deliveryStatus),
  rpc('delivery:bulk-status', bulkStatus),
  rpc('delivery:confirm-override', confirmOverride),
  rpc('delivery:code', deliveryCode),
  rpc('delivery:location', reportLocation),
];
