import type { Locale } from '../../../protocol/common.js';
import type { NotificationChannel, NotificationKind } from '../../../protocol/notifications.js';

/** One message to one recipient on one channel, already rendered in their language. */
export interface OutboundMessage {
  /** The delivery id: the same on every try, so providers and peers can de-duplicate. */
  id: string;
  kind: NotificationKind;
  locale: Locale;
  /** Email subject, push title. */
  title: string;
  /** Plain text: email text part, push body, SMS text. */
  body: string;
  /** A link to open (set-password link, or `${publicUrl}/…` for an order), or null. */
  url: string | null;
  /** Small key/values for apps: { kind, linkType, linkId, notificationId }. */
  data: Record<string, string>;
}

/** A send that did not go through: timeouts and 5xx are retryable, 4xx not, 429 with the wait its Retry-After asks. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

export interface ChannelProvider {
  readonly channel: NotificationChannel;
  /**
   * Sends one message: to `address` (email/sms) or to every device and subscription of `userId` (push).
   * Resolves when accepted; throws DeliveryError (timeouts and 5xx retryable, 4xx not, 429 with
   * retryAfterMs from Retry-After). Push removes tokens/subscriptions the service reports gone (FCM
   * UNREGISTERED, Web Push 404/410) and succeeds when none are left.
   */
  send(target: { userId: string | null; address: string | null }, message: OutboundMessage): Promise<void>;
}
