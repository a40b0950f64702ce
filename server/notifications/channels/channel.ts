import type { Locale, NotificationChannel, NotificationKind } from '../../../protocol/index.js';

export interface OutboundMessage {
  id: string; // the delivery id
  kind: NotificationKind;
  locale: Locale;
  title: string; // email subject, push title
  body: string; // plain text: email text part, push body, SMS text
  url: string | null; // a link to open (set-password link, or `${publicUrl}/…` for an order), or null
  data: Record<string, string>; // small key/values for apps: { kind, linkType, linkId, notificationId }
}

export class DeliveryError extends Error {
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
  /** Sends one message: to `address` (email/sms) or to every device and subscription of `userId` (push).
   *  Resolves when accepted; throws DeliveryError (timeouts and 5xx retryable, 4xx not, 429 with
   *  retryAfterMs from Retry-After). Push removes tokens/subscriptions the service reports gone (FCM
   *  UNREGISTERED, Web Push 404/410) and succeeds when none are left. */
  send(target: { userId: string | null; address: string | null }, message: OutboundMessage): Promise<void>;
}
