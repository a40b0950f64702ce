import { z } from 'zod';
import { Id, IsoTime, PageInput, pageOf } from './common.js';
import { NotificationChannel, NotificationKind } from './notifications.js';
import { defineEvents } from './spec.js';
import { ADMINS } from './users.js';

/** PENDING: queued or waiting for its next try; SENT: a provider accepted it; DEAD: refused (4xx) or out of tries. */
export const MessageDeliveryStatus = z.enum(['PENDING', 'SENT', 'DEAD']);
export type MessageDeliveryStatus = z.infer<typeof MessageDeliveryStatus>;

/** One message to one person on one channel, as admins see it: never its body, which may hold a reset link. */
export const MessageDelivery = z.object({
  id: Id,
  notificationId: Id.nullable(),
  userId: Id.nullable(),
  channel: NotificationChannel,
  /** The email address or phone it goes to; null for push (the user's devices). */
  address: z.string().nullable(),
  kind: NotificationKind,
  title: z.string(),
  status: MessageDeliveryStatus,
  /** Tries made so far. */
  attempts: z.int().min(0),
  lastError: z.string().nullable(),
  createdAt: IsoTime,
  /** When a PENDING delivery is tried next. */
  nextAttemptAt: IsoTime.nullable(),
  sentAt: IsoTime.nullable(),
});
export type MessageDelivery = z.infer<typeof MessageDelivery>;

export const messageDeliveryEvents = defineEvents({
  'notifications:deliveries': {
    summary:
      'Deliveries of messages to people (email, SMS, push), newest first, filtered by status and channel: DEAD ones are the dead letters. A zone-limited admin sees those to users in its zones.',
    roles: ADMINS,
    input: z.strictObject({ status: MessageDeliveryStatus.optional(), channel: NotificationChannel.optional(), userId: Id.optional(), ...PageInput }),
    result: pageOf(MessageDelivery),
  },
  'notifications:deliveries:retry': {
    summary: 'Sends a DEAD delivery again, with a fresh set of tries (audited); any other status is INVALID_TRANSITION.',
    roles: ADMINS,
    input: z.strictObject({ id: Id }),
    result: MessageDelivery,
  },
});
