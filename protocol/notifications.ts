import { z } from 'zod';
import { Id } from './common.js';

/** The vocabulary of notifications (issue 13's shared design); the notification centre's events join it here. */
export const NotificationGroup = z.enum(['orders', 'delivery', 'money', 'stock', 'account']);
export type NotificationGroup = z.infer<typeof NotificationGroup>;
/** Ways out besides the app itself (in-app is always on): push fans out to a user's devices and browsers. */
export const NotificationChannel = z.enum(['push', 'email', 'sms']);
export type NotificationChannel = z.infer<typeof NotificationChannel>;
export const NotificationKind = z.enum([
  'order.new',
  'order.accepted',
  'order.rejected',
  'order.reduced',
  'order.cancelled',
  'order.expired',
  'order.on_the_way',
  'order.delivered',
  'order.failed',
  'order.overdue',
  'delivery.assigned',
  'delivery.unassigned',
  'delivery.cancelled',
  'cash.collected',
  'settlement.created',
  'settlement.verified',
  'settlement.paid',
  'stock.low',
  'account.created',
  'account.password_reset',
]);
export type NotificationKind = z.infer<typeof NotificationKind>;
export const NotificationLink = z.object({ type: z.enum(['order', 'product', 'settlement']), id: Id });
export type NotificationLink = z.infer<typeof NotificationLink>;
