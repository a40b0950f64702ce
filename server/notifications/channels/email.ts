import { createTransport, type NodemailerError } from 'nodemailer';
import type { Config } from '../../config.js';
import { DeliveryError, type ChannelProvider, type OutboundMessage } from './channel.js';

type EmailConfig = NonNullable<Config['channels']['email']>;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The domain of MAIL_FROM, where the Message-IDs of our deliveries live. */
function domainOf(from: string): string {
  return /@([^\s<>@]+)>?\s*$/.exec(from)?.[1] ?? 'lilium.invalid';
}

/** A short page in the message's language and direction (Arabic reads right to left), saying what the text part says. */
function html(m: OutboundMessage): string {
  const dir = m.locale === 'ar' ? 'rtl' : 'ltr';
  const link = m.url ? `<p><a href="${escapeHtml(m.url)}">${escapeHtml(m.url)}</a></p>` : '';
  return (
    `<!doctype html><html lang="${m.locale}" dir="${dir}"><head><meta charset="utf-8"><title>${escapeHtml(m.title)}</title></head>` +
    `<body style="font-family: sans-serif"><p>${escapeHtml(m.body).replace(/\n/g, '<br>')}</p>${link}</body></html>`
  );
}

/**
 * SMTP replies are the reverse of HTTP's: 4xx are transient, 5xx permanent (nodemailer marks which, 503 being
 * transient); no reply at all (refused, reset, timed out) is worth a retry too.
 */
function smtpFailure(err: unknown, timeoutMs: number): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const e = err as NodemailerError;
  if (typeof e.responseCode === 'number') {
    const reply = (e.response ?? String(e.responseCode)).slice(0, 200);
    return new DeliveryError(`the SMTP server refused the message: ${reply}`, e.permanent !== true);
  }
  if (e.code === 'ETIMEDOUT') return new DeliveryError(`the SMTP server did not answer within ${timeoutMs} ms`, true);
  if (e.code === 'EENVELOPE' || e.code === 'ECONFIG') return new DeliveryError(`the message cannot be sent (${e.code}: ${e.message})`, false);
  return new DeliveryError(`the SMTP server is unreachable (${e.originalCode ?? e.code ?? e.message})`, true);
}

/**
 * Email through SMTP. Each delivery has a Message-ID made from its id, and says it in X-Lilium-Delivery, so a
 * retry of a message the server took after all can be recognised as the same message.
 */
export function createEmailProvider(config: EmailConfig, timeoutMs: number): ChannelProvider {
  const transport = createTransport({ url: config.url, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs });
  const domain = domainOf(config.from);
  return {
    channel: 'email',
    async send({ address }, m) {
      if (!address) throw new DeliveryError('an email needs an address', false);
      let timer: NodeJS.Timeout | undefined;
      // nodemailer's timeouts bound each wait; this bounds the whole conversation with a server that trickles.
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeliveryError(`the SMTP server did not answer within ${timeoutMs} ms`, true)), timeoutMs);
      });
      const sent = transport.sendMail({
        from: config.from,
        to: address,
        subject: m.title,
        text: m.url ? `${m.body}\n\n${m.url}` : m.body,
        html: html(m),
        messageId: `<${m.id}@${domain}>`,
        headers: { 'Content-Language': m.locale, 'X-Lilium-Delivery': m.id },
      });
      sent.catch(() => undefined);
      try {
        await Promise.race([sent, deadline]);
      } catch (err) {
        throw smtpFailure(err, timeoutMs);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
