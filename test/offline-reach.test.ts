import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { placeOrder } from './support/delivery.js';
import { httpFake, json, writeServiceAccount, type HttpFake } from './support/fakes.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { key, makeProduct, openVendors } from './support/ordering.js';
import { until } from './support/until.js';
import { browserKeys, decryptPush } from './support/webpush.js';

// End to end through the real providers, each against a real local peer: an event, its notification and delivery
// rows in the event's transaction, the job, the provider, the peer; the recipients' sockets closed meanwhile.

const PROJECT = 'lilium-offline';
const rsa = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const vapid = webpush.generateVAPIDKeys();
const dir = mkdtempSync(join(tmpdir(), 'lilium-offline-'));

interface Mail {
  to: string;
  subject: string;
  text: string;
}
const inbox: Mail[] = [];
let smtp: SMTPServer;
let sms: HttpFake, fcm: HttpFake, pushService: HttpFake;
let h: Harness;
let admin: Session;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, done) {
      void simpleParser(stream).then((m) => {
        inbox.push({ to: session.envelope.rcptTo[0]!.address, subject: m.subject ?? '', text: m.text ?? '' });
        done();
      }, done);
    },
  });
  await new Promise<void>((resolve) => smtp.server.listen(0, '127.0.0.1', resolve));
  sms = await httpFake((_r, res) => json(res, 200, { accepted: true }));
  pushService = await httpFake((_r, res) => res.writeHead(201).end());
  fcm = await httpFake((r, res) =>
    r.path === '/token'
      ? json(res, 200, { access_token: 'ya29.offline', expires_in: 3600, token_type: 'Bearer' })
      : json(res, 200, { name: `projects/${PROJECT}/messages/${randomUUID()}` }),
  );
  const credentials = writeServiceAccount(dir, fcm.url, {
    projectId: PROJECT,
    clientEmail: `x@${PROJECT}.iam.gserviceaccount.com`,
    privateKey: rsa.privateKey,
  });
  h = await startHarness({
    env: {
      SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
      MAIL_FROM: 'Lilium <no-reply@lilium.test>',
      SMS_GATEWAY_URL: `${sms.url}/send`,
      SMS_GATEWAY_AUTH: 'Bearer sms-secret',
      FCM_CREDENTIALS_FILE: credentials,
      FCM_ENDPOINT: fcm.url,
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_SUBJECT: 'mailto:ops@lilium.test',
      WEBPUSH_ALLOW_HTTP: '1',
      JOBS_POLL_MS: '500',
      RATE_LIMIT_BURST: '10000',
    },
  });
  admin = await h.login('admin@demo.lilium');
});
afterAll(async () => {
  await h?.close();
  await Promise.all([sms?.close(), fcm?.close(), pushService?.close(), new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()))]);
  rmSync(dir, { recursive: true, force: true });
});

const tokenIn = (text: string) => new URL(/https?:\/\/\S+reset-password\?token=[\w-]+/.exec(text)![0]).searchParams.get('token')!;

describe('password reset, end to end', () => {
  test('by email to an email login: the mail arrives, its link sets a new password once', async () => {
    await call(await h.connect(), 'auth:password-reset:request', { login: 'shop2@demo.lilium' });
    await until(async () => inbox.some((m) => m.to === 'shop2@demo.lilium'), 20_000);
    const mail = inbox.find((m) => m.to === 'shop2@demo.lilium')!;
    expect(mail.subject).toBe('طلب إعادة تعيين كلمة المرور');
    const anon = await h.connect();
    expect(await call(anon, 'auth:password-reset:confirm', { token: tokenIn(mail.text), newPassword: 'mailed-new-password' })).toEqual({});
    await expect(h.login('shop2@demo.lilium', { password: 'mailed-new-password' })).resolves.toBeTruthy();
    expect(sms.received).toEqual([]);
  });

  test('by SMS to a phone login: the gateway gets the text with the link, which works', async () => {
    const [{ phone }] = (await h.q<{ phone: string }>(`SELECT phone FROM users WHERE email = 'shop3@demo.lilium'`)) as [{ phone: string }];
    await call(await h.connect(), 'auth:password-reset:request', { login: phone });
    await until(async () => sms.received.length > 0, 20_000);
    const [got] = sms.received;
    expect(got!.headers.authorization).toBe('Bearer sms-secret');
    const body = JSON.parse(got!.body.toString()) as { to: string; text: string };
    expect(body.to).toBe(phone);
    expect(await call(await h.connect(), 'auth:password-reset:confirm', { token: tokenIn(body.text), newPassword: 'texted-new-password' })).toEqual({});
    await expect(h.login(phone, { password: 'texted-new-password', app: 'mobile' })).resolves.toBeTruthy();
  });
});

describe('people whose sockets are closed', () => {
  test('vendor staff by Web Push, the shop owner by FCM, the manager by email', async () => {
    const staff = await h.login('vendor1@demo.lilium');
    const vendorId = (await call(staff.socket, 'me:get', {})).vendorId!;
    await openVendors(h, admin, [vendorId]);
    const product = await makeProduct(h, staff);
    const browser = browserKeys();
    const endpoint = `${pushService.url}/staff/${randomUUID()}`;
    await call(staff.socket, 'push:subscribe', { endpoint, keys: browser.keys });
    staff.socket.close();

    const shop = await h.login('shop1@demo.lilium');
    const token = `offline-${randomUUID()}:APA91b${'x'.repeat(40)}`;
    await call(shop.socket, 'devices:register', { token, platform: 'android', app: 'shop' });
    const order = await placeOrder(shop, product.id);
    shop.socket.close();

    // The staff member's browser: order.new, decrypted as the browser would.
    await until(async () => pushService.received.some((r) => r.path.startsWith('/staff/')), 20_000);
    const pushed = JSON.parse(decryptPush(pushService.received.find((r) => r.path.startsWith('/staff/'))!.body, browser.ecdh, browser.auth)) as Record<
      string,
      unknown
    >;
    expect(JSON.stringify(pushed)).toContain('order.new');
    expect(JSON.stringify(pushed)).toContain(String(order.number));

    const manager = await h.login('manager1@demo.lilium');
    await call(manager.socket, 'order:accept', { orderId: order.id });
    manager.socket.close();
    // The shop owner's phone: order.accepted through FCM, to its registered token.
    const fcmFor = () => fcm.received.filter((r) => r.path.endsWith('messages:send') && r.body.toString().includes(token));
    await until(async () => fcmFor().some((r) => r.body.toString().includes('order.accepted')), 20_000);

    // Through to cash: the manager hears of the cash collected by email (managers' default for money).
    const driver = await h.login('driver2@demo.lilium');
    await call(driver.socket, 'driver:availability', { available: true });
    const [staff2, shop2] = await Promise.all([h.login('vendor1@demo.lilium'), h.login('shop1@demo.lilium')]);
    await call(staff2.socket, 'order:prepare', { orderId: order.id });
    await call(staff2.socket, 'delivery:assign', { orderId: order.id, driverId: driver.userId });
    await call(driver.socket, 'delivery:status', { orderId: order.id, status: 'ON_THE_WAY' });
    const { code } = await call(shop2.socket, 'delivery:code', { orderId: order.id });
    await call(driver.socket, 'delivery:status', { orderId: order.id, status: 'DELIVERED', code });
    await call(driver.socket, 'cash:collect', { orderId: order.id, amount: order.total, idempotencyKey: key() });
    await until(async () => inbox.some((m) => m.to === 'manager1@demo.lilium'), 20_000);
    expect(inbox.find((m) => m.to === 'manager1@demo.lilium')!.text).toContain(String(order.number));
  });
});
