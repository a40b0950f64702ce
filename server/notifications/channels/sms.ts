import { Phone } from '../../../protocol/users.js';
import type { Config } from '../../config.js';
import { DeliveryError, type ChannelProvider } from './channel.js';
import { accepted, post, refusal } from './http.js';
import { fillTemplate } from './template.js';

type SmsConfig = NonNullable<Config['channels']['sms']>;

const SERVICE = 'the SMS gateway';

/**
 * SMS through a generic HTTP gateway: SMS_GATEWAY_BODY filled with the number and the text (JSON-escaped), posted
 * with SMS_GATEWAY_AUTH as the Authorization header. Any 2xx is taken as accepted.
 */
export function createSmsProvider(config: SmsConfig, timeoutMs: number): ChannelProvider {
  return {
    channel: 'sms',
    async send({ address }, m) {
      if (!address || !Phone.safeParse(address).success) throw new DeliveryError('an SMS needs an E.164 phone number', false);
      const text = m.url ? `${m.body} ${m.url}` : m.body;
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(config.auth ? { authorization: config.auth } : {}) };
      const answer = await post(SERVICE, config.url, { headers, body: fillTemplate(config.body, { to: address, text }) }, timeoutMs);
      if (!accepted(answer)) throw refusal(SERVICE, answer);
    },
  };
}
