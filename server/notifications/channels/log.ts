import type { NotificationChannel } from '../../../protocol/notifications.js';
import type { Logger } from '../../logger.js';
import type { ChannelProvider } from './channel.js';

/** `sh***@demo.lilium`, `+96477*****67`: enough to tell recipients apart in a log, not to write to them. */
export function maskAddress(address: string | null): string | null {
  if (address === null) return null;
  const at = address.indexOf('@');
  if (at > 0) return `${address.slice(0, Math.min(2, at - 1))}***${address.slice(at)}`;
  return address.length > 7 ? `${address.slice(0, 6)}${'*'.repeat(address.length - 8)}${address.slice(-2)}` : '***';
}

/**
 * A channel with no provider configured (development): logs that a message would have gone out, and succeeds.
 * Never the title, body or link, which may carry a reset token: only what tells one message from another.
 */
export function logProvider(channel: NotificationChannel, log: Logger): ChannelProvider {
  return {
    channel,
    async send(target, message) {
      log.info(
        { delivery: { id: message.id, kind: message.kind, channel, userId: target.userId, address: maskAddress(target.address) } },
        `${message.kind} would be sent by ${channel} (no ${channel} provider configured)`,
      );
    },
  };
}
