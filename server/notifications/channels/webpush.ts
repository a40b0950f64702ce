import webpush from 'web-push';
import { sql } from '../../../db/sql.js';
import type { PushSubscriptionRow } from '../../../db/tables.js';
import type { Config } from '../../config.js';
import type { Deps } from '../../deps.js';
import { DeliveryError, type ChannelProvider, type OutboundMessage } from './channel.js';
import { settleAll } from './fanout.js';
import { accepted, post, refusal } from './http.js';

type WebPushConfig = NonNullable<Config['channels']['webPush']>;
type Target = Pick<PushSubscriptionRow, 'endpoint' | 'p256dh' | 'auth'>;

const SERVICE = 'the push service';
/** A push nobody could show within a day is stale (an order has moved on). */
const TTL_S = 86_400;

/** What the service worker receives, decrypted: enough to show the notification and open its link. */
const payloadOf = (m: OutboundMessage) => JSON.stringify({ id: m.id, kind: m.kind, title: m.title, body: m.body, url: m.url, data: m.data });

/**
 * Web Push to each of a user's browser subscriptions (RFC 8291 aes128gcm payload, VAPID). web-push encrypts and
 * signs; the request goes out through fetch, so one deadline covers it. The Topic (the delivery id) lets the push
 * service replace a retry's message with the same one still waiting.
 */
export function createWebPushProvider(deps: Pick<Deps, 'db'>, config: WebPushConfig, timeoutMs: number): ChannelProvider {
  const vapidDetails = { subject: config.subject, publicKey: config.publicKey, privateKey: config.privateKey };

  async function sendOne(target: Target, m: OutboundMessage): Promise<void> {
    let request: ReturnType<typeof webpush.generateRequestDetails>;
    try {
      request = webpush.generateRequestDetails({ endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } }, payloadOf(m), {
        vapidDetails,
        TTL: TTL_S,
        contentEncoding: 'aes128gcm',
        topic: m.id.replace(/-/g, ''),
      });
    } catch (err) {
      throw new DeliveryError(`cannot encrypt for a subscription: ${(err as Error).message}`, false);
    }
    // fetch sets Content-Length itself, from the body it sends.
    const headers = Object.fromEntries(Object.entries(request.headers).flatMap(([k, v]) => (k.toLowerCase() === 'content-length' ? [] : [[k, String(v)]])));
    const answer = await post(SERVICE, target.endpoint, { headers, body: request.body ?? '' }, timeoutMs);
    if (accepted(answer)) return;
    // The browser unsubscribed or the subscription expired: it will never take a message again.
    if (answer.status === 404 || answer.status === 410)
      return void (await deps.db.query(sql`DELETE FROM push_subscriptions WHERE endpoint = ${target.endpoint}`));
    throw refusal(SERVICE, answer);
  }

  return {
    channel: 'push',
    async send({ userId }, m) {
      if (!userId) throw new DeliveryError('a push needs a user', false);
      const targets = await deps.db.query<Target>(sql`SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE user_id = ${userId}`);
      await settleAll(targets.map((t) => sendOne(t, m)));
    },
  };
}
