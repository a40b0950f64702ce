import type { NotificationChannel } from '../../../protocol/notifications.js';
import type { Deps } from '../../deps.js';
import type { ChannelProvider } from './channel.js';
import { logProvider } from './log.js';

/** Built once in createApp from config; without a provider configured a channel logs what it would send. */
export function createChannels(deps: Pick<Deps, 'config' | 'db' | 'log'>): Record<NotificationChannel, ChannelProvider> {
  return {
    push: logProvider('push', deps.log),
    email: logProvider('email', deps.log),
    sms: logProvider('sms', deps.log),
  };
}
