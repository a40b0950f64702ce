import type { NotificationChannel } from '../../../protocol/index.js';
import type { Logger } from '../../logger.js';
import type { ChannelProvider } from './channel.js';

/** Enough of an address to tell whose it is in a log, not enough to use it. */
export function maskAddress(address: string | null): string | null {
  if (!address) return null;
  const at = address.lastIndexOf('@');
  if (at > 0) return `${address[0]}***${address.slice(at)}`;
  return address.length > 6 ? `${address.slice(0, 4)}***${address.slice(-2)}` : '***';
}

/**
 * A channel with no provider configured (development): it logs what it would send and takes it as sent. Never the
 * title, body or link: those of a password reset or a set-password message are the secret itself.
 */
export function createLogProvider(channel: NotificationChannel, log: Logger): ChannelProvider {
  return {
    channel,
    async send({ userId, address }, m) {
      log.info({ channel, kind: m.kind, to: maskAddress(address), userId, deliveryId: m.id }, `${channel} not configured: ${m.kind} not sent`);
    },
  };
}
