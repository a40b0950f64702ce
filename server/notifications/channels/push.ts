import type { ChannelProvider } from './channel.js';
import { settleAll } from './fanout.js';

/**
 * The `push` channel: every mobile device (FCM) and browser (Web Push) of the user at once. It succeeds when each
 * target took the message or was removed as gone, and is retried when any failed in a way worth retrying.
 */
export function createPushProvider(services: ChannelProvider[]): ChannelProvider {
  return { channel: 'push', send: (target, m) => settleAll(services.map((s) => s.send(target, m))) };
}
