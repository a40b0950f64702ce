import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../server/config.js';
import type { OutboundMessage } from '../server/notifications/channels/channel.js';
import { createEmailProvider } from '../server/notifications/channels/email.js';
import { createSmsProvider } from '../server/notifications/channels/sms.js';
import { failure, httpFake, json, type HttpFake } from './support/fakes.js';

const message = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  id: randomUUID(),
  kind: 'order.accepted',
  locale: 'en',
  title: 'Order accepted',
  body: 'Your order from "Noor" was accepted.\nIt will be on its way soon.',
  url: 'http://localhost:3000/orders/1',
  data: { kind: 'order.accepted' },
  ...over,
});

const listening = (server: Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

/** A TCP peer that takes connections and never says a word: an SMTP server that hangs before its greeting. */
async function mute(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => void sockets.add(s));
  const port = await listening(server);
  return {
    port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('email through SMTP', () => {
  const inbox: Array<{ to: string[]; raw: Buffer }> = [];
  /** Replies the server gives to the next messages' data, in order; none: 250. */
  const dataReplies: number[] = [];
  let smtp: SMTPServer;
  let port: number;

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo(address, _session, done) {
        if (address.address.startsWith('nobody@')) return done(Object.assign(new Error('5.1.1 no such mailbox'), { responseCode: 550 }));
        done();
      },
      onData(stream, session, done) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
          const code = dataReplies.shift();
          done(code ? Object.assign(new Error('4.3.0 try again later'), { responseCode: code }) : null);
        });
      },
    });
    port = await listening(smtp.server);
  });
  afterAll(() => new Promise<void>((resolve) => smtp.close(() => resolve())));

  const provider = (url = `smtp://127.0.0.1:${port}`, timeoutMs?: number) => {
    const config = loadConfig({ NODE_ENV: 'test', SMTP_URL: url, MAIL_FROM: 'Lilium <no-reply@lilium.test>' });
    return createEmailProvider(config.channels.email!, timeoutMs ?? config.channels.timeoutMs);
  };
  const received = async (id: string) => Promise.all(inbox.filter((m) => m.raw.toString().includes(id)).map((m) => simpleParser(m.raw)));

  test.each([
    { locale: 'en', title: 'Order accepted', body: 'Your order from "Noor" was accepted.\nIt will be on its way soon.', dir: 'ltr' },
    { locale: 'ar', title: 'تم قبول الطلب', body: 'تم قبول طلبك من "نور".\nسيكون في الطريق قريبًا.', dir: 'rtl' },
  ] as const)(
    'a message in $locale: subject, text, an HTML part in its language and direction ($dir), headers naming the delivery',
    async ({ locale, title, body, dir }) => {
      const m = message({ locale, title, body });
      await provider().send({ userId: null, address: 'layla@example.com' }, m);
      const [mail, ...more] = await received(m.id);
      expect(more).toEqual([]);
      expect(mail!.subject).toBe(title);
      expect(mail!.from?.value).toEqual([{ name: 'Lilium', address: 'no-reply@lilium.test' }]);
      expect(inbox.find((i) => i.raw.toString().includes(m.id))!.to).toEqual(['layla@example.com']);
      expect(mail!.text).toBe(`${body}\n\n${m.url}`);
      expect(mail!.html).toBe(
        `<!doctype html><html lang="${locale}" dir="${dir}"><head><meta charset="utf-8"><title>${title}</title></head>` +
          `<body style="font-family: sans-serif"><p>${body.replace(/"/g, '&#34;').replace('\n', '<br>')}</p>` +
          `<p><a href="${m.url}">${m.url}</a></p></body></html>`,
      );
      expect(mail!.messageId).toBe(`<${m.id}@lilium.test>`);
      expect(mail!.headers.get('x-lilium-delivery')).toBe(m.id);
      expect(mail!.headers.get('content-language')).toBe(locale);
    },
  );

  test('a 4xx reply is retryable, and the retry that succeeds carries the same Message-ID', async () => {
    const m = message();
    dataReplies.push(451);
    expect(await failure(provider().send({ userId: null, address: 'sami@example.com' }, m))).toEqual({
      message: 'the SMTP server refused the message: 451 4.3.0 try again later',
      retryable: true,
      retryAfterMs: null,
    });
    await provider().send({ userId: null, address: 'sami@example.com' }, m);
    const attempts = await received(m.id);
    expect(attempts.map((a) => [a.messageId, a.headers.get('x-lilium-delivery')])).toEqual([
      [`<${m.id}@lilium.test>`, m.id],
      [`<${m.id}@lilium.test>`, m.id],
    ]);
  });

  test('a 5xx reply is final', async () => {
    const m = message();
    expect(await failure(provider().send({ userId: null, address: 'nobody@example.com' }, m))).toEqual({
      message: 'the SMTP server refused the message: 550 5.1.1 no such mailbox',
      retryable: false,
      retryAfterMs: null,
    });
    expect(await received(m.id)).toEqual([]);
  });

  test('a refused connection is retryable, and so is a server that never greets (timed out)', async () => {
    const closed = await mute();
    await closed.close();
    expect(await failure(provider(`smtp://127.0.0.1:${closed.port}`).send({ userId: null, address: 'sami@example.com' }, message()))).toEqual({
      message: 'the SMTP server is unreachable (ECONNREFUSED)',
      retryable: true,
      retryAfterMs: null,
    });
    const silent = await mute();
    try {
      expect(await failure(provider(`smtp://127.0.0.1:${silent.port}`, 300).send({ userId: null, address: 'sami@example.com' }, message()))).toEqual({
        message: 'the SMTP server did not answer within 300 ms',
        retryable: true,
        retryAfterMs: null,
      });
    } finally {
      await silent.close();
    }
  });

  test('no address is final', async () => {
    expect(await failure(provider().send({ userId: null, address: null }, message()))).toEqual({
      message: 'an email needs an address',
      retryable: false,
      retryAfterMs: null,
    });
  });
});

describe('SMS through an HTTP gateway', () => {
  let gateway: HttpFake, silent: HttpFake;
  /** The gateway's answer by the last three digits of the number. */
  beforeAll(async () => {
    gateway = await httpFake((r, res) => {
      const to = (JSON.parse(r.body.toString()) as { recipient: string }).recipient;
      const code = Number(to.slice(-3));
      if (code === 429) return json(res, 429, { error: 'slow down' }, { 'retry-after': '30' });
      if (code >= 400) return json(res, code, { error: `failed for ${to}` });
      json(res, 202, { id: randomUUID() });
    });
    silent = await httpFake(() => undefined);
  });
  afterAll(() => Promise.all([gateway.close(), silent.close()]));

  const provider = (url = gateway.url, timeoutMs?: number) => {
    const config = loadConfig({
      NODE_ENV: 'test',
      SMS_GATEWAY_URL: url,
      SMS_GATEWAY_AUTH: 'Bearer sms-gateway-secret',
      SMS_GATEWAY_BODY: '{"recipient":"{to}","message":"{text}","sender":"Lilium"}',
    });
    return createSmsProvider(config.channels.sms!, timeoutMs ?? config.channels.timeoutMs);
  };

  test('posts the filled template, JSON-escaped, with the configured Authorization', async () => {
    const m = message({ locale: 'ar', body: 'رمزك "1234"\nلا تشاركه \\ أحدًا', url: 'http://localhost/reset?token=abc' });
    await provider().send({ userId: null, address: '+9647701234200' }, m);
    const [request] = gateway.received.filter((r) => r.body.toString().includes('+9647701234200'));
    expect(request!.method).toBe('POST');
    expect(request!.headers).toMatchObject({ authorization: 'Bearer sms-gateway-secret', 'content-type': 'application/json' });
    expect(JSON.parse(request!.body.toString())).toEqual({ recipient: '+9647701234200', message: `${m.body} ${m.url}`, sender: 'Lilium' });
  });

  test('4xx is final, 5xx retryable, 429 retryable after its Retry-After; a number that is not E.164 never reaches the gateway', async () => {
    const send = (to: string) => failure(provider().send({ userId: null, address: to }, message()));
    expect(await send('+9647701234400')).toEqual({ message: 'the SMS gateway answered 400', retryable: false, retryAfterMs: null });
    expect(await send('+9647701234503')).toEqual({ message: 'the SMS gateway answered 503', retryable: true, retryAfterMs: null });
    expect(await send('+9647701234429')).toEqual({ message: 'the SMS gateway answered 429', retryable: true, retryAfterMs: 30_000 });
    const before = gateway.received.length;
    for (const to of ['07701234567', '+0123456789', '9647701234567', '']) {
      expect(await send(to)).toEqual({ message: 'an SMS needs an E.164 phone number', retryable: false, retryAfterMs: null });
    }
    expect(gateway.received.length).toBe(before);
  });

  test('a gateway that never answers times out, retryable; one that is down is retryable', async () => {
    expect(await failure(provider(silent.url, 300).send({ userId: null, address: '+9647701234567' }, message()))).toEqual({
      message: 'the SMS gateway did not answer within 300 ms',
      retryable: true,
      retryAfterMs: null,
    });
    const down = await httpFake(() => undefined);
    await down.close();
    expect(await failure(provider(down.url).send({ userId: null, address: '+9647701234567' }, message()))).toEqual({
      message: 'the SMS gateway is unreachable (ECONNREFUSED)',
      retryable: true,
      retryAfterMs: null,
    });
  });
});
