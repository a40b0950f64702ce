import { z } from 'zod';
import { Empty, Id, IsoTime, PageInput, pageOf } from './common.js';
import { defineEvents, definePushes } from './spec.js';

/** Kinds are grouped for preferences; `account` (account and security messages) cannot be turned off. */
export const NotificationGroup = z.enum(['orders', 'delivery', 'money', 'stock', 'account']);
export type NotificationGroup = z.infer<typeof NotificationGroup>;

/** Ways out besides the app itself (in-app notifications are always on, so they are no channel here). */
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
  'order.overdue', // vendor managers + zone admins
  'delivery.assigned',
  'delivery.unassigned',
  'delivery.cancelled', // driver
  'cash.collected',
  'settlement.created',
  'settlement.verified',
  'settlement.paid', // vendor managers
  'stock.low', // vendor staff
  'account.created',
  'account.password_reset', // the user
]);
export type NotificationKind = z.infer<typeof NotificationKind>;

/** What a notification opens. */
export const NotificationLink = z.object({ type: z.enum(['order', 'product', 'settlement']), id: Id });
export type NotificationLink = z.infer<typeof NotificationLink>;

export const Notification = z.object({
  id: Id,
  kind: NotificationKind,
  group: NotificationGroup,
  /** Rendered in the recipient's locale when the notification was made. */
  title: z.string(),
  body: z.string(),
  link: NotificationLink.nullable(),
  readAt: IsoTime.nullable(),
  createdAt: IsoTime,
});
export type Notification = z.infer<typeof Notification>;

const Switches = z.object({ push: z.boolean(), email: z.boolean(), sms: z.boolean() });
/** Per group, which channels carry it besides the app. `account` is always all on. */
export const NotificationPreferences = z.object({
  orders: Switches,
  delivery: Switches,
  money: Switches,
  stock: Switches,
  account: Switches,
});
export type NotificationPreferences = z.infer<typeof NotificationPreferences>;

const SwitchChanges = z
  .strictObject({ push: z.boolean().optional(), email: z.boolean().optional(), sms: z.boolean().optional() })
  .refine((v) => Object.keys(v).length > 0, 'name at least one channel');

const Unread = z.int().min(0);

export const notificationEvents = defineEvents({
  'notifications:list': {
    summary: "One's own notifications, newest first: only unread ones, or of one kind, when asked.",
    roles: 'signedIn',
    input: z.strictObject({ unread: z.boolean().optional(), kind: NotificationKind.optional(), ...PageInput }),
    result: pageOf(Notification),
  },
  'notifications:read': {
    summary:
      "Mark one's own notifications read: up to 100 `ids`, or `all`. An id that is not one's own answers NOT_FOUND with `details.ids` and nothing is marked. Answers how many were newly marked and the unread count left.",
    roles: 'signedIn',
    input: z
      .strictObject({ ids: z.array(Id).min(1).max(100).optional(), all: z.literal(true).optional() })
      .refine((v) => (v.ids === undefined) !== (v.all === undefined), { message: 'give either ids or all: true', path: ['ids'] }),
    result: z.object({ updated: z.int().min(0), unread: Unread }),
  },
  'notifications:unread-count': {
    summary: "How many of one's own notifications are unread.",
    roles: 'signedIn',
    input: Empty,
    result: z.object({ unread: Unread }),
  },
  'notifications:preferences:get': {
    summary: "Which channels (push, email, SMS) carry each group of one's notifications; unset ones follow the defaults of one's role.",
    roles: 'signedIn',
    input: Empty,
    result: NotificationPreferences,
  },
  'notifications:preferences:set': {
    summary:
      'Turn channels of groups on or off; what is not named is kept. The `account` group cannot be turned off (BAD_REQUEST with `details.group`). Answers the preferences now in force.',
    roles: 'signedIn',
    input: z
      .strictObject({
        orders: SwitchChanges.optional(),
        delivery: SwitchChanges.optional(),
        money: SwitchChanges.optional(),
        stock: SwitchChanges.optional(),
        account: SwitchChanges.optional(),
      })
      .refine((v) => Object.keys(v).length > 0, 'nothing to change'),
    result: NotificationPreferences,
  },
});

export const notificationPushes = definePushes({
  'notification:new': {
    summary: 'A new notification for this user, with their unread count.',
    to: 'user:<id>',
    data: z.object({ notification: Notification, unread: Unread }),
    stored: true,
  },
  'notification:read': {
    summary: "Notifications were marked read on another of this user's sockets: `ids` (null: all), and the unread count left.",
    to: 'user:<id>, except the socket that marked them',
    data: z.object({ ids: z.array(Id).nullable(), unread: Unread }),
    stored: false,
  },
});
