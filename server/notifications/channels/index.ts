import type { NotificationChannel } from '../../../protocol/index.js';
import type { Deps } from '../../deps.js';
import type { ChannelProvider } from './channel.js';
import { createEmailProvider } from './email.js';
import { createFcmProvider } from './fcm.js';
import { createLogProvider } from './log.js';
import { createPushProvider } from './push.js';
import { createSmsProvider } from './sms.js';
import { createWebPushProvider } from './webpush.js';

/** Built once in createApp from config; without a provider configured a channel logs what it would send. */
export function createChannels(deps: Pick<Deps, 'config' | 'db' | 'log'>): Record<NotificationChannel, ChannelProvider> {
  const { timeoutMs, email, sms, fcm, webPush } = deps.config.channels;
  const pushServices = [fcm && createFcmProvider(deps, fcm, timeoutMs), webPush && createWebPushProvider(deps, webPush, timeoutMs)].filter(
    (p): p is ChannelProvider => Boolean(p),
  );
  const providers: Record<NotificationChannel, ChannelProvider> = {
    email: email ? createEmailProvider(email, timeoutMs) : createLogProvider('email', deps.log),
    sms: sms ? createSmsProvider(sms, timeoutMs) : createLogProvider('sms', deps.log),
    push: pushServices.length ? createPushProvider(pushServices) : createLogProvider('push', deps.log),
  };
  const kinds = {
    email: email ? 'smtp' : 'log',
    sms: sms ? 'http gateway' : 'log',
    push: [fcm && 'fcm', webPush && 'webpush'].filter(Boolean).join('+') || 'log',
  };
  if (deps.config.env === 'production' && Object.values(kinds).includes('log'))
    deps.log.warn({ channels: kinds }, 'some notification channels are not configured and only log');
  else deps.log.info({ channels: kinds }, 'notification channels');
  return providers;
}
