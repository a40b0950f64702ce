import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import type { ChannelProvider, OutboundMessage } from '../server/notifications/channels/channel.js';
import { createFcmProvider } from '../server/notifications/channels/fcm.js';
import { createWebPushProvider } from '../server/notifications/channels/webpush.js';
import { fails } from './support/expect.js';
import { failure, httpFake, json, writeServiceAccount, type HttpFake } from './support/fakes.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { makeShops } from './support/ordering.js';
import { browserKeys, decryptPush, verifyVapid } from './support/webpush.js';

const PASSWORD = 'push-test-pass-1';
const SUBJECT = 'mailto:ops@lilium.test';
const PROJECT = 'lilium-test';
const CLIENT_EMAIL = `lilium@${PROJECT}.iam.gserviceaccount.com`;
const vapid = webpush.generateVAPIDKeys();
const rsa = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const dir = mkdtempSync(join(tmpdir(), 'lilium-push-'));

/** What a push service does with each endpoint, by the first segment of its path. */
function pushServiceReply(path: string): { status: number; headers?: Record<string, string> } | null {
  const kind = path.split('/')[1];
  if (kind === 'ok') return { status: 201 };
  if (kind === 'gone') return { status: 410 };
  if (kind === 'missing') return { status: 404 };
  if (kind === 'busy') return { status: 429, headers: { 'retry-after': '12' } };
  if (kind === 'down') return { status: 503 };
  if (kind === 'refused') return { status: 400 };
  return null; // 'silent': never answers
}

/** FCM's answers by token prefix, as its v1 API words them. */
function fcmError(status: number, errorStatus: string, errorCode: string | null, extra: object[] = []) {
  const details = [...(errorCode ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] : []), ...extra];
  return { error: { code: status, message: `${errorStatus} from the fake`, status: errorStatus, details } };
}

/** Access tokens the fake FCM has issued and still honours. */
const fcmState = { issued: 0, valid: new Set<string>(), badGrants: [] as string[] };

let pushService: HttpFake, fcm: HttpFake, silent: HttpFake;
let h: Harness;
let su: Session;
let zoneId: string;
let webPushProvider: ChannelProvider, fcmProvider: ChannelProvider;

beforeAll(async () => {
  pushService = await httpFake((r, res) => {
    const reply = pushServiceReply(r.path);
    if (reply) res.writeHead(reply.status, reply.headers ?? {}).end();
  });
  silent = await httpFake(() => undefined);
  fcm = await httpFake((r, res) => {
    if (r.path === '/token') {
      const form = new URLSearchParams(r.body.toString());
      try {
        const claims = jwt.verify(form.get('assertion') ?? '', rsa.publicKey, { algorithms: ['RS256'], audience: `${fcm.url}/token`, issuer: CLIENT_EMAIL });
        if ((claims as jwt.JwtPayload).scope !== 'https://www.googleapis.com/auth/firebase.messaging') throw new Error('scope');
        if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') throw new Error('grant_type');
      } catch (err) {
        fcmState.badGrants.push((err as Error).message);
        return json(res, 400, { error: 'invalid_grant' });
      }
      const accessToken = `ya29.fake-${++fcmState.issued}`;
      fcmState.valid.add(accessToken);
      return json(res, 200, { access_token: accessToken, expires_in: 3600, token_type: 'Bearer' });
    }
    if (r.path !== `/v1/projects/${PROJECT}/messages:send`) return json(res, 404, {});
    if (!fcmState.valid.has(r.headers.authorization?.replace(/^Bearer /, '') ?? '')) return json(res, 401, fcmError(401, 'UNAUTHENTICATED', null));
    const token = (JSON.parse(r.body.toString()) as { message: { token: string } }).message.token;
    const kind = token.split('-')[0];
    if (kind === 'ok') return json(res, 200, { name: `projects/${PROJECT}/messages/${randomUUID()}` });
    if (kind === 'gone') return json(res, 404, fcmError(404, 'NOT_FOUND', 'UNREGISTERED'));
    if (kind === 'invalid') {
      const violation = {
        '@type': 'type.googleapis.com/google.rpc.BadRequest',
        fieldViolations: [{ field: 'message.token', description: 'Invalid registration token' }],
      };
      return json(res, 400, fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', [violation]));
    }
    if (kind === 'payload') return json(res, 400, fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT'));
    if (kind === 'busy') return json(res, 429, fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED'), { 'retry-after': '7' });
    if (kind === 'down') return json(res, 503, fcmError(503, 'UNAVAILABLE', 'UNAVAILABLE'));
    return json(res, 500, fcmError(500, 'INTERNAL', 'INTERNAL'));
  });
  const credentials = writeServiceAccount(dir, fcm.url, { projectId: PROJECT, clientEmail: CLIENT_EMAIL, privateKey: rsa.privateKey });
  h = await startHarness({
    env: {
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_SUBJECT: SUBJECT,
      WEBPUSH_ALLOW_HTTP: '1',
      FCM_CREDENTIALS_FILE: credentials,
      FCM_ENDPOINT: fcm.url,
      RATE_LIMIT_BURST: '10000',
    },
  });
  const { channels } = h.app.deps.config;
  webPushProvider = createWebPushProvider(h.app.deps, channels.webPush!, channels.timeoutMs);
  fcmProvider = createFcmProvider(h.app.deps, channels.fcm!, channels.timeoutMs);
  su = await h.login('superadmin@demo.lilium');
  zoneId = (await call(su.socket, 'zones:list', {})).items[0]!.id;
});
afterAll(async () => {
  await h?.close();
  await Promise.all([pushService?.close(), fcm?.close(), silent?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const message = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  id: randomUUID(),
  kind: 'order.new',
  locale: 'en',
  title: 'New order',
  body: 'Shop "Noor" ordered 3 items',
  url: 'http://localhost:3000/orders/1',
  data: { kind: 'order.new', linkType: 'order', linkId: randomUUID() },
  ...over,
});

/** A dashboard user of its own (an admin), signed in. */
async function browserUser(): Promise<Session> {
  const email = `browser-${randomUUID().slice(0, 8)}@test.lilium`;
  await call(su.socket, 'users:create', { role: 'ADMIN', name: 'Browser', email, password: PASSWORD });
  return h.login(email, { password: PASSWORD });
}

/** Subscribes a browser of `s` whose push service endpoint behaves as `kind` says (see pushServiceReply). */
async function subscribe(s: Session, kind: string, base = pushService.url) {
  const browser = browserKeys();
  const endpoint = `${base}/${kind}/${randomUUID()}`;
  await call(s.socket, 'push:subscribe', { endpoint, keys: browser.keys });
  return { ...browser, endpoint };
}

const shopOwner = async () => (await makeShops(h, su, 1, zoneId))[0]!;
const fcmToken = (kind: string) => `${kind}-${randomUUID()}:APA91b${'x'.repeat(40)}`;
const register = (s: Session, token: string) => call(s.socket, 'devices:register', { token, platform: 'android', app: 'shop' });
const subscriptions = (userId: string) => h.q<{ endpoint: string }>('SELECT endpoint FROM push_subscriptions WHERE user_id = $1 ORDER BY endpoint', [userId]);
const devices = (userId: string) => h.q<{ token: string }>('SELECT token FROM devices WHERE user_id = $1 ORDER BY token', [userId]);
const sentTo = (fake: HttpFake, path: string) => fake.received.filter((r) => r.path === path);
const fcmSends = (token: string) =>
  fcm.received.filter((r) => r.path.endsWith('messages:send') && (JSON.parse(r.body.toString()) as { message: { token: string } }).message.token === token);

describe('devices:register and devices:unregister', () => {
  test('a shop owner registers its phone; the token registered again by another user moves to them; each unregisters only its own', async () => {
    const [a, b] = await makeShops(h, su, 2, zoneId);
    const token = fcmToken('ok');
    const device = await call(a!.socket, 'devices:register', { token, platform: 'ios', app: 'shop' });
    expect(device).toEqual({ token, platform: 'ios', app: 'shop', createdAt: expect.any(String), lastSeenAt: expect.any(String) });
    const again = await call(a!.socket, 'devices:register', { token, platform: 'ios', app: 'shop' });
    expect(again.createdAt).toBe(device.createdAt);
    expect(Date.parse(again.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(device.lastSeenAt));

    await call(b!.socket, 'devices:register', { token, platform: 'android', app: 'shop' });
    expect(await h.q('SELECT user_id, platform FROM devices WHERE token = $1', [token])).toEqual([{ user_id: b!.userId, platform: 'android' }]);
    await fails(call(a!.socket, 'devices:unregister', { token }), 'NOT_FOUND');
    expect(await devices(b!.userId)).toEqual([{ token }]);
    expect(await call(b!.socket, 'devices:unregister', { token })).toEqual({ token });
    expect(await devices(b!.userId)).toEqual([]);
    await fails(call(b!.socket, 'devices:unregister', { token }), 'NOT_FOUND');
  });

  test("the app must be the caller's: FORBIDDEN naming the right one, and nothing is stored", async () => {
    const shop = await h.login('shop2@demo.lilium');
    const driver = await h.login('driver2@demo.lilium');
    const token = fcmToken('ok');
    await fails(call(shop.socket, 'devices:register', { token, platform: 'android', app: 'driver' }), 'FORBIDDEN', { reason: 'app', app: 'shop' });
    await fails(call(driver.socket, 'devices:register', { token, platform: 'android', app: 'shop' }), 'FORBIDDEN', { reason: 'app', app: 'driver' });
    expect(await h.q('SELECT token FROM devices WHERE token = $1', [token])).toEqual([]);
    expect(await call(driver.socket, 'devices:register', { token, platform: 'android', app: 'driver' })).toMatchObject({ token, app: 'driver' });
  });

  test('a malformed token or platform is BAD_REQUEST with the issue paths, and stores nothing', async () => {
    const shop = await h.login('shop3@demo.lilium');
    const before = await devices(shop.userId);
    const bad = (input: object) => call(shop.socket, 'devices:register', input as never);
    await fails(bad({ token: 'short', platform: 'android', app: 'shop' }), 'BAD_REQUEST', [{ path: 'token', code: 'too_small' }]);
    await fails(bad({ token: `has spaces ${'x'.repeat(30)}`, platform: 'android', app: 'shop' }), 'BAD_REQUEST', [
      { path: 'token', code: 'invalid_format', message: 'must be an FCM registration token' },
    ]);
    await fails(bad({ token: fcmToken('ok'), platform: 'web', app: 'shop' }), 'BAD_REQUEST', [{ path: 'platform', code: 'invalid_value' }]);
    await fails(bad({ token: fcmToken('ok'), platform: 'ios', app: 'shop', extra: 1 }), 'BAD_REQUEST', [{ path: '', code: 'unrecognized_keys' }]);
    await fails(call(shop.socket, 'devices:unregister', { token: 'x' }), 'BAD_REQUEST', [{ path: 'token', code: 'too_small' }]);
    expect(await devices(shop.userId)).toEqual(before);
  });

  test('a user keeps at most 10 phones: registering an 11th drops the least recently seen', async () => {
    const shop = await shopOwner();
    const tokens = Array.from({ length: 11 }, () => fcmToken('ok'));
    for (const t of tokens) await register(shop, t);
    expect((await devices(shop.userId)).map((d) => d.token)).toEqual(tokens.slice(1).sort());
  });
});

describe('push:subscribe and push:unsubscribe', () => {
  test('a browser subscribes; the endpoint subscribed by another user moves to them; each unsubscribes only its own', async () => {
    const vendor = await h.login('vendor1@demo.lilium');
    const manager = await h.login('manager1@demo.lilium');
    const { keys } = browserKeys();
    const endpoint = `${pushService.url}/ok/${randomUUID()}`;
    expect(await call(vendor.socket, 'push:subscribe', { endpoint, keys })).toEqual({ endpoint, createdAt: expect.any(String) });
    const other = browserKeys().keys;
    await call(manager.socket, 'push:subscribe', { endpoint, keys: other });
    expect(await h.q('SELECT user_id, p256dh, auth FROM push_subscriptions WHERE endpoint = $1', [endpoint])).toEqual([
      { user_id: manager.userId, p256dh: other.p256dh, auth: other.auth },
    ]);
    await fails(call(vendor.socket, 'push:unsubscribe', { endpoint }), 'NOT_FOUND');
    expect(await call(manager.socket, 'push:unsubscribe', { endpoint })).toEqual({ endpoint });
    expect(await h.q('SELECT 1 FROM push_subscriptions WHERE endpoint = $1', [endpoint])).toEqual([]);
  });

  test('the endpoint must be https to a host name; plain http only to loopback, and only with WEBPUSH_ALLOW_HTTP', async () => {
    const admin = await browserUser();
    const { keys } = browserKeys();
    const endpointIssue = (message: string) => [{ path: 'endpoint', code: 'custom', message }];
    const sub = (endpoint: string) => call(admin.socket, 'push:subscribe', { endpoint, keys });
    await fails(sub('http://push.example.com/x'), 'BAD_REQUEST', endpointIssue('must be an https URL'));
    await fails(sub('https://10.0.0.8/x'), 'BAD_REQUEST', endpointIssue("must name a push service's host, not an address"));
    await fails(sub('https://[::1]/x'), 'BAD_REQUEST', endpointIssue("must name a push service's host, not an address"));
    await fails(sub('https://localhost/x'), 'BAD_REQUEST', endpointIssue("must name a push service's host, not an address"));
    await fails(sub('ftp://push.example.com/x'), 'BAD_REQUEST', [{ path: 'endpoint', code: 'invalid_format' }]);
    await fails(sub('not a url'), 'BAD_REQUEST', [{ path: 'endpoint', code: 'invalid_format' }]);
    expect(await subscriptions(admin.userId)).toEqual([]);
    expect(await sub('https://fcm.googleapis.com/fcm/send/abc')).toMatchObject({ endpoint: 'https://fcm.googleapis.com/fcm/send/abc' });
  });

  test('the keys must be base64url of 65 and 16 bytes, and p256dh a point of P-256', async () => {
    const admin = await browserUser();
    const { keys } = browserKeys();
    const endpoint = `${pushService.url}/ok/${randomUUID()}`;
    const sub = (k: object) => call(admin.socket, 'push:subscribe', { endpoint, keys: k as typeof keys });
    const issue = (path: string, bytes: number) => ({ path, code: 'invalid_format', message: `must be base64url of ${bytes} bytes` });
    await fails(sub({ p256dh: keys.p256dh.slice(1), auth: keys.auth }), 'BAD_REQUEST', [issue('keys.p256dh', 65)]);
    await fails(sub({ p256dh: keys.p256dh, auth: `${keys.auth}AA` }), 'BAD_REQUEST', [issue('keys.auth', 16)]);
    await fails(sub({ p256dh: keys.p256dh.replace(/[+/]/g, 'A').replace(/^./, '+'), auth: keys.auth.slice(2) }), 'BAD_REQUEST', [
      issue('keys.p256dh', 65),
      issue('keys.auth', 16),
    ]);
    await fails(sub({ p256dh: keys.p256dh }), 'BAD_REQUEST', [{ path: 'keys.auth', code: 'invalid_type' }]);
    // The right length, but not a point on the curve: encryption to it could never work.
    const offCurve = Buffer.from(keys.p256dh, 'base64url');
    offCurve[40]! ^= 1;
    await fails(sub({ p256dh: offCurve.toString('base64url'), auth: keys.auth }), 'BAD_REQUEST', [
      { path: 'keys.p256dh', code: 'custom', message: 'must be a P-256 public key' },
    ]);
    expect(await subscriptions(admin.userId)).toEqual([]);
    // Padded base64url, as some browsers give it, is the same key.
    expect(await sub({ p256dh: `${keys.p256dh}=`, auth: `${keys.auth}==` })).toMatchObject({ endpoint });
  });

  test('push:key answers the VAPID public key browsers subscribe with', async () => {
    const vendor = await h.login('vendor1@demo.lilium');
    expect(await call(vendor.socket, 'push:key', {})).toEqual({ vapidPublicKey: vapid.publicKey });
  });
});

describe('Web Push', () => {
  test("the browser decrypts the message, the request is signed with VAPID for the service's origin, and 201 is success", async () => {
    const admin = await browserUser();
    const browser = await subscribe(admin, 'ok');
    const m = message({ locale: 'ar', title: 'طلب جديد', body: 'طلب "نور" ٣ قطع' });
    await webPushProvider.send({ userId: admin.userId, address: null }, m);

    const [request, ...more] = sentTo(pushService, new URL(browser.endpoint).pathname);
    expect(more).toEqual([]);
    expect(JSON.parse(decryptPush(request!.body, browser.ecdh, browser.auth))).toEqual({
      id: m.id,
      kind: m.kind,
      title: m.title,
      body: m.body,
      url: m.url,
      data: m.data,
    });
    expect(request!.headers).toMatchObject({ 'content-encoding': 'aes128gcm', ttl: '86400', topic: m.id.replace(/-/g, ''), urgency: 'normal' });
    const claims = verifyVapid(request!.headers.authorization, vapid.publicKey, pushService.url);
    expect(claims.sub).toBe(SUBJECT);
    expect(claims.exp! * 1000).toBeGreaterThan(Date.now());
    expect(await subscriptions(admin.userId)).toEqual([{ endpoint: browser.endpoint }]);
  });

  test('an endpoint answering 404 or 410 is removed; the send succeeds when the rest were accepted or none are left', async () => {
    const admin = await browserUser();
    const ok = await subscribe(admin, 'ok');
    const gone = await subscribe(admin, 'gone');
    const missing = await subscribe(admin, 'missing');
    await webPushProvider.send({ userId: admin.userId, address: null }, message());
    expect(await subscriptions(admin.userId)).toEqual([{ endpoint: ok.endpoint }]);
    for (const s of [ok, gone, missing]) expect(sentTo(pushService, new URL(s.endpoint).pathname)).toHaveLength(1);

    const alone = await browserUser();
    await subscribe(alone, 'gone');
    await webPushProvider.send({ userId: alone.userId, address: null }, message());
    expect(await subscriptions(alone.userId)).toEqual([]);
    // A user with no browser left has nothing to send to: done.
    await webPushProvider.send({ userId: alone.userId, address: null }, message());
  });

  test('429 is retryable after its Retry-After, 5xx retryable, another 4xx final; the subscription stays', async () => {
    const cases: Array<[string, { message: string; retryable: boolean; retryAfterMs: number | null }]> = [
      ['busy', { message: 'the push service answered 429', retryable: true, retryAfterMs: 12_000 }],
      ['down', { message: 'the push service answered 503', retryable: true, retryAfterMs: null }],
      ['refused', { message: 'the push service answered 400', retryable: false, retryAfterMs: null }],
    ];
    for (const [kind, expected] of cases) {
      const admin = await browserUser();
      const s = await subscribe(admin, kind);
      expect(await failure(webPushProvider.send({ userId: admin.userId, address: null }, message()))).toEqual(expected);
      expect(await subscriptions(admin.userId)).toEqual([{ endpoint: s.endpoint }]);
    }
  });

  test('a push service that never answers times out, retryable', async () => {
    const admin = await browserUser();
    await subscribe(admin, 'silent', silent.url);
    const quick = createWebPushProvider(h.app.deps, h.app.deps.config.channels.webPush!, 300);
    expect(await failure(quick.send({ userId: admin.userId, address: null }, message()))).toEqual({
      message: 'the push service did not answer within 300 ms',
      retryable: true,
      retryAfterMs: null,
    });
  });
});

describe('FCM', () => {
  test("sends each phone the notification and the app's data with a bearer token from the service account's JWT grant, fetched once", async () => {
    const shop = await shopOwner();
    const [first, second] = [fcmToken('ok'), fcmToken('ok')];
    await register(shop, first);
    await register(shop, second);
    const m = message();
    const before = fcmState.issued;
    await fcmProvider.send({ userId: shop.userId, address: null }, m);
    await fcmProvider.send({ userId: shop.userId, address: null }, message());

    expect(fcmState.badGrants).toEqual([]);
    expect(fcmState.issued).toBe(before + 1);
    for (const token of [first, second]) {
      const [request] = fcmSends(token);
      expect(request!.headers).toMatchObject({ authorization: `Bearer ya29.fake-${before + 1}`, 'content-type': 'application/json' });
      expect(JSON.parse(request!.body.toString())).toEqual({
        message: {
          token,
          notification: { title: m.title, body: m.body },
          data: { ...m.data, deliveryId: m.id, url: m.url },
          android: { collapse_key: m.id },
          apns: { headers: { 'apns-collapse-id': m.id } },
        },
      });
      expect(fcmSends(token)).toHaveLength(2);
    }
  });

  test('UNREGISTERED and an invalid registration token remove the phone; a refused payload keeps it and is final', async () => {
    const shop = await shopOwner();
    const [ok, gone, invalid] = [fcmToken('ok'), fcmToken('gone'), fcmToken('invalid')];
    for (const t of [ok, gone, invalid]) await register(shop, t);
    await fcmProvider.send({ userId: shop.userId, address: null }, message());
    expect(await devices(shop.userId)).toEqual([{ token: ok }]);

    const other = await shopOwner();
    const payload = fcmToken('payload');
    await register(other, payload);
    expect(await failure(fcmProvider.send({ userId: other.userId, address: null }, message()))).toEqual({
      message: 'FCM answered 400 INVALID_ARGUMENT',
      retryable: false,
      retryAfterMs: null,
    });
    expect(await devices(other.userId)).toEqual([{ token: payload }]);
  });

  test('429 with Retry-After and 503 are retryable; an access token FCM refuses is renewed for the next try', async () => {
    const shop = await shopOwner();
    await register(shop, fcmToken('busy'));
    expect(await failure(fcmProvider.send({ userId: shop.userId, address: null }, message()))).toEqual({
      message: 'FCM answered 429 QUOTA_EXCEEDED',
      retryable: true,
      retryAfterMs: 7_000,
    });
    const down = await shopOwner();
    await register(down, fcmToken('down'));
    expect(await failure(fcmProvider.send({ userId: down.userId, address: null }, message()))).toEqual({
      message: 'FCM answered 503 UNAVAILABLE',
      retryable: true,
      retryAfterMs: null,
    });

    const fine = await shopOwner();
    const token = fcmToken('ok');
    await register(fine, token);
    await fcmProvider.send({ userId: fine.userId, address: null }, message()); // holds a token now
    const issued = fcmState.issued;
    fcmState.valid.clear(); // the held token is revoked
    expect(await failure(fcmProvider.send({ userId: fine.userId, address: null }, message()))).toEqual({
      message: 'FCM refused the access token',
      retryable: true,
      retryAfterMs: null,
    });
    await fcmProvider.send({ userId: fine.userId, address: null }, message());
    expect(fcmState.issued).toBe(issued + 1);
    expect(fcmSends(token).at(-1)!.headers.authorization).toBe(`Bearer ya29.fake-${issued + 1}`);
  });

  test('a credentials file that cannot be read or is not a service account stops the start with one line', () => {
    const fcmConfig = h.app.deps.config.channels.fcm!;
    const start = (credentialsFile: string, projectId: string | null = null) =>
      createFcmProvider(h.app.deps, { ...fcmConfig, credentialsFile, projectId }, 1000);
    expect(() => start(join(dir, 'absent.json'))).toThrow(/^FCM_CREDENTIALS_FILE cannot be read \(ENOENT\)$/);
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    expect(() => start(write('text.json', 'not json'))).toThrow(/^FCM_CREDENTIALS_FILE is not JSON \(expected a service-account key file\)$/);
    expect(() => start(write('user.json', JSON.stringify({ type: 'authorized_user', client_id: 'x' })))).toThrow(
      /^FCM_CREDENTIALS_FILE is not a service-account key file \(client_email is missing or wrong\)$/,
    );
    const noProject = write('no-project.json', JSON.stringify({ client_email: CLIENT_EMAIL, private_key: rsa.privateKey }));
    expect(() => start(noProject)).toThrow(/^FCM_PROJECT_ID is required: FCM_CREDENTIALS_FILE names no project_id$/);
    expect(start(noProject, PROJECT).channel).toBe('push');
  });

  test('FCM not answering times out, retryable', async () => {
    const shop = await shopOwner();
    await register(shop, fcmToken('ok'));
    const quick = createFcmProvider(h.app.deps, { ...h.app.deps.config.channels.fcm!, endpoint: silent.url }, 300);
    expect(await failure(quick.send({ userId: shop.userId, address: null }, message()))).toEqual({
      message: 'FCM did not answer within 300 ms',
      retryable: true,
      retryAfterMs: null,
    });
  });
});

describe('the push channel', () => {
  test("reaches every phone and browser of the user; when one target fails retryably the delivery is retried, the others' copies carry its id", async () => {
    const shop = await shopOwner();
    const phone = fcmToken('ok');
    await register(shop, phone);
    // Browsers are the dashboard's, but the channel fans out to whatever the user has.
    const browser = browserKeys();
    const endpoint = `${pushService.url}/ok/${randomUUID()}`;
    const down = `${pushService.url}/down/${randomUUID()}`;
    await h.q('INSERT INTO push_subscriptions (endpoint, user_id, p256dh, auth) VALUES ($1, $3, $4, $5), ($2, $3, $4, $5)', [
      endpoint,
      down,
      shop.userId,
      browser.keys.p256dh,
      browser.keys.auth,
    ]);
    const m = message();
    const push = h.app.deps.channels.push;
    expect(push.channel).toBe('push');
    expect(await failure(push.send({ userId: shop.userId, address: null }, m))).toEqual({
      message: 'the push service answered 503',
      retryable: true,
      retryAfterMs: null,
    });
    expect((JSON.parse(fcmSends(phone)[0]!.body.toString()) as { message: { data: { deliveryId: string } } }).message.data.deliveryId).toBe(m.id);
    const [request] = sentTo(pushService, new URL(endpoint).pathname);
    expect((JSON.parse(decryptPush(request!.body, browser.ecdh, browser.auth)) as { id: string }).id).toBe(m.id);

    await h.q('DELETE FROM push_subscriptions WHERE endpoint = $1', [down]);
    await push.send({ userId: shop.userId, address: null }, m);
    expect(fcmSends(phone)).toHaveLength(2);
  });
});

describe('a channel without a provider', () => {
  test('logs the kind, the channel, the masked address and the delivery id, never the message', async () => {
    const m = message({
      kind: 'account.password_reset',
      title: 'Reset your password',
      body: 'Your code is 918273',
      url: 'http://localhost/reset?token=s3cr3t',
    });
    await h.app.deps.channels.email.send({ userId: null, address: 'layla@example.com' }, m);
    await h.app.deps.channels.sms.send({ userId: null, address: '+9647701234567' }, { ...m, id: randomUUID() });
    const lines = h.logs.filter((l) => l.kind === 'account.password_reset');
    expect(lines.map((l) => ({ channel: l.channel, to: l.to, deliveryId: l.deliveryId }))).toEqual([
      { channel: 'email', to: 'l***@example.com', deliveryId: m.id },
      { channel: 'sms', to: '+964***67', deliveryId: expect.any(String) },
    ]);
    const text = JSON.stringify(lines);
    for (const secret of ['918273', 's3cr3t', 'Reset your password', 'layla', '7701234']) expect(text).not.toContain(secret);
  });
});
