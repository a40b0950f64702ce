import { rpc } from '../rpc/rpc.js';
import { registerDevice, subscribePush, unregisterDevice, unsubscribePush, vapidKey } from './devices.service.js';

export const deviceHandlers = [
  rpc('devices:register', registerDevice),
  rpc('devices:unregister', unregisterDevice),
  rpc('push:key', vapidKey),
  rpc('push:subscribe', subscribePush),
  rpc('push:unsubscribe', unsubscribePush),
];
