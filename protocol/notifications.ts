import { z } from 'zod';
import { Id } from './common.js';

export const NotificationGroup = z.enum(['orders', 'delivery', 'money', 'stock', 'account']);
export type NotificationGroup = z.infer<typeof NotificationGroup>;
/** In-app is always on, not a channel here. */
export const NotificationChannel = z.enum(['push', 'email', 'sms']);
export type NotificationChannel = z.infer<typeof NotificationChannel>;
export const NotificationKind = z.enum([
  'order.new', // vendor staff + managers
  'order.accepted',
  'order.rejected',
  'order.reduced',
  'order.cancelled',
  'order.expired',
  'order.on_the_way',
  'order.delivered',
  'order.failed', // shop owner
  'order.overdue', // vendor managers + zone admins (deadlines part)
  'delivery.assigned',
  'delivery.unassigned',
  'delivery.cancelled', // driver
  'cash.collected',
  'settlement.created',
  'settlement.verified',
  'settlement.paid', // vendor managers
  'stock.low', // vendor staff
  'account.created',
  'account.password_reset', // the user; group `account`, cannot be turned off
]);
export type NotificationKind = z.infer<typeof NotificationKind>;
export const NotificationLink = z.object({ type: z.enum(['order', 'product', 'settlement']), id: Id });
export type NotificationLink = z.infer<typeof NotificationLink>;
