import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { AppError } from '../server/errors.js';
import { jobCtx } from '../server/jobs/job-context.js';
import { enqueueDelivery, type DeliveryInput } from '../server/notifications/deliveries.js';
import { fails } from './support/expect.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { jobEvents, sendJob } from './support/test-jobs.js';
import { until } from './support/until.js';
import { WebhookPeer } from './support/webhook.js';

// Deliveries against a real local gateway: tries, backoff, Retry-After, dead letters and the admin retry.
const BASE_MS = 200;
let h: Harness;
let gateway: WebhookPeer;
let admin: Session;
beforeAll(async () => {
  gateway = await WebhookPeer.start();
  h = await startHarness({
    channels: gateway.channels,
    extraHandlers: jobEvents,
    env: { DELIVERY_RETRY_BASE_MS: String(BASE_MS), DELIVERY_RETRY_MAX_MS: '1000', DELIVERY_MAX_ATTEMPTS: '3', JOBS_POLL_MS: '500', JOBS_METRICS_S: '1' },
  });
  admin = await h.login('admin@demo.lilium');
});
afterAll(async () => {
  await h.close();
  await gateway.stop();
});

type Stored = { id: string; status: string; attempts: number; last_error: string | null; payload: Record<string, unknown> };
const deliveryTo = async (address: string) =>
  (
    await h.q<Stored>(`SELECT id, status, attempts, last_error, payload FROM notification_deliveries WHERE address = $1 ORDER BY created_at DESC`, [address])
  )[0];
const settled = async (address: string, status: string) => {
  await until(async () => (await deliveryTo(address))?.status === status, 15_000);
  return (await deliveryTo(address))!;
};
const requestReset = async (login: string) => call(await h.connect(), 'auth:password-reset:request', { login });
/** Milliseconds between the tries the gateway received. */
const gaps = (address: string) =>
  gateway
    .to(address)
    .slice(1)
    .map((r, i) => r.at - gateway.to(address)[i]!.at);

describe('tries', () => {
  test('a 5xx is tried again with growing waits, the same message id each time, until it is sent; a secret keeps no body once sent', async () => {
    const address = 'shop2@demo.lilium';
    gateway.script(address, { status: 503 }, { status: 502 });
    await requestReset(address);
    const d = await settled(address, 'SENT');
    expect(d).toMatchObject({ status: 'SENT', attempts: 3, last_error: null, payload: { body: '', url: null } });
    expect(gateway.to(address).map((r) => r.message.id)).toEqual([d.id, d.id, d.id]);
    // Waits of at least half the ceiling: BASE_MS, then twice that (the random half comes on top).
    const [first, second] = gaps(address) as [number, number];
    expect(first).toBeGreaterThanOrEqual(BASE_MS / 2);
    expect(second).toBeGreaterThanOrEqual(BASE_MS);
  });

  test('a 429 waits at least as long as its Retry-After asks, longer than the backoff would', async () => {
    const address = 'shop3@demo.lilium';
    gateway.script(address, { status: 429, retryAfterS: 1 });
    await requestReset(address);
    const d = await settled(address, 'SENT');
    expect(d.attempts).toBe(2);
    expect(gaps(address)[0]).toBeGreaterThanOrEqual(1_000);
  });

  test('a 4xx is dead at once; the last try of DELIVERY_MAX_ATTEMPTS failing makes it dead too', async () => {
    gateway.script('shop4@demo.lilium', { status: 400 });
    await requestReset('shop4@demo.lilium');
    expect(await settled('shop4@demo.lilium', 'DEAD')).toMatchObject({ attempts: 1, last_error: 'gateway answered 400' });
    expect(gateway.to('shop4@demo.lilium')).toHaveLength(1);

    gateway.script('shop5@demo.lilium', { status: 500 }, { status: 500 }, { status: 500 });
    await requestReset('shop5@demo.lilium');
    const dead = await settled('shop5@demo.lilium', 'DEAD');
    expect(dead).toMatchObject({ attempts: 3, last_error: 'gateway answered 500' });
    // Dead messages keep their body, so an admin can send them again.
    expect(dead.payload.body).toContain('/reset-password?token=');
    expect(gateway.to('shop5@demo.lilium')).toHaveLength(3);
  });

  test('a phone login is reset by SMS to its E.164 number', async () => {
    await requestReset('+9647730000006');
    await settled('+9647730000006', 'SENT');
    expect(gateway.to('+9647730000006').map((r) => [r.channel, r.message.kind])).toEqual([['sms', 'account.password_reset']]);
  });
});

describe('enqueueDelivery', () => {
  const message = { kind: 'order.new', locale: 'en', title: 'New order', body: 'A new order came in', url: null, data: { kind: 'order.new' } } as const;
  const enqueue = (d: Partial<DeliveryInput>, rollback = false) =>
    jobCtx(h.app.deps, 'test').tx(async (ctx) => {
      const id = await enqueueDelivery(ctx, { notificationId: null, userId: null, channel: 'email', address: 'someone@test.lilium', message, ...d });
      if (rollback) throw Object.assign(new Error('rolled back on purpose'), { id });
      return id;
    });
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: AppError) => ({ code: e.code, details: e.details }),
    );

  test('checks the address for the channel before anything is written: E.164 for SMS, an email for email, none for push', async () => {
    const count = async () => (await h.q<{ n: number }>('SELECT count(*)::int AS n FROM notification_deliveries'))[0]!.n;
    const before = await count();
    expect(await refusal(enqueue({ channel: 'sms', address: '0770 123 4567' }))).toEqual({ code: 'BAD_REQUEST', details: { field: 'address' } });
    expect(await refusal(enqueue({ channel: 'sms', address: null }))).toEqual({ code: 'BAD_REQUEST', details: { field: 'address' } });
    expect(await refusal(enqueue({ channel: 'email', address: 'not an email' }))).toEqual({ code: 'BAD_REQUEST', details: { field: 'address' } });
    expect(await refusal(enqueue({ channel: 'push', address: 'x@test.lilium', userId: admin.userId }))).toEqual({
      code: 'BAD_REQUEST',
      details: { field: 'address' },
    });
    expect(await refusal(enqueue({ channel: 'push', address: null, userId: null }))).toEqual({ code: 'BAD_REQUEST', details: { field: 'userId' } });
    expect(await count()).toBe(before);
  });

  test('one written in a transaction that rolls back leaves no delivery and no job; one that commits is sent, keeping a body that is not secret', async () => {
    const dropped = await enqueue({ address: 'dropped@test.lilium' }, true).catch((e: { id: string }) => e.id);
    expect(await h.q(`SELECT 1 FROM notification_deliveries WHERE id = $1`, [dropped])).toEqual([]);
    expect(await h.q(`SELECT 1 FROM pgboss.job WHERE data->>'deliveryId' = $1`, [dropped])).toEqual([]);
    const id = await enqueue({ channel: 'push', address: null, userId: admin.userId });
    await until(async () => gateway.to(admin.userId).length > 0, 10_000);
    expect(gateway.to(admin.userId)[0]).toMatchObject({ channel: 'push', target: { userId: admin.userId, address: null }, message: { ...message, id } });
    await until(async () => (await h.q<{ status: string }>(`SELECT status FROM notification_deliveries WHERE id = $1`, [id]))[0]!.status === 'SENT');
    expect((await h.q<{ body: string }>(`SELECT payload->>'body' AS body FROM notification_deliveries WHERE id = $1`, [id]))[0]!.body).toBe(message.body);
    expect(gateway.to('dropped@test.lilium')).toEqual([]);
  });
});

describe('admins', () => {
  test('notifications:deliveries lists newest first, filtered by status and channel, a page at a time', async () => {
    gateway.script('shop7@demo.lilium', { status: 404 });
    await requestReset('shop7@demo.lilium');
    await settled('shop7@demo.lilium', 'DEAD');
    const first = await call(admin.socket, 'notifications:deliveries', { status: 'DEAD', channel: 'email', limit: 1 });
    expect(first.items).toEqual([
      expect.objectContaining({
        address: 'shop7@demo.lilium',
        channel: 'email',
        status: 'DEAD',
        attempts: 1,
        lastError: 'gateway answered 404',
        kind: 'account.password_reset',
      }),
    ]);
    expect(first.items[0]).toMatchObject({ title: 'Reset your Lilium password', nextAttemptAt: null, sentAt: null, notificationId: null });
    expect(first.items[0]).not.toHaveProperty('body');
    const rest = await call(admin.socket, 'notifications:deliveries', { status: 'DEAD', channel: 'email', limit: 100, cursor: first.nextCursor! });
    expect(rest.items.map((d) => d.address)).toEqual(expect.arrayContaining(['shop4@demo.lilium', 'shop5@demo.lilium']));
    expect(rest.items.every((d) => d.status === 'DEAD' && d.channel === 'email')).toBe(true);
    expect((await call(admin.socket, 'notifications:deliveries', { status: 'SENT', channel: 'sms' })).items.map((d) => d.address)).toEqual(['+9647730000006']);
  });

  test('notifications:deliveries:retry sends a dead delivery again with fresh tries and the same id; anything not dead is INVALID_TRANSITION', async () => {
    const address = 'shop4@demo.lilium';
    const dead = await settled(address, 'DEAD');
    const again = await call(admin.socket, 'notifications:deliveries:retry', { id: dead.id });
    expect(again).toMatchObject({ id: dead.id, status: 'PENDING', attempts: 0 });
    await settled(address, 'SENT');
    expect(gateway.to(address).map((r) => r.message.id)).toEqual([dead.id, dead.id]);
    expect((await h.audit('DELIVERY_RETRY', dead.id)).map((a) => a.actor_id)).toEqual([admin.userId]);

    await fails(call(admin.socket, 'notifications:deliveries:retry', { id: dead.id }), 'INVALID_TRANSITION', { from: 'SENT', to: 'PENDING' });
    gateway.script('shop8@demo.lilium', { status: 429, retryAfterS: 60 });
    await requestReset('shop8@demo.lilium');
    await until(async () => (await deliveryTo('shop8@demo.lilium'))?.attempts === 1);
    const waiting = (await deliveryTo('shop8@demo.lilium'))!;
    await fails(call(admin.socket, 'notifications:deliveries:retry', { id: waiting.id }), 'INVALID_TRANSITION', { from: 'PENDING', to: 'PENDING' });
    await fails(call(admin.socket, 'notifications:deliveries:retry', { id: randomUUID() }), 'NOT_FOUND');
  });
});

describe('/metrics', () => {
  const scrape = async () => (await fetch(`${h.url}/metrics`)).text();
  const value = (text: string, series: string) =>
    Number(
      text
        .split('\n')
        .find((l) => l.startsWith(`${series} `))
        ?.split(' ')[1] ?? 0,
    );

  test('counts tries per channel and outcome', async () => {
    const series = (outcome: string) => `lilium_notification_deliveries_total{channel="sms",outcome="${outcome}"}`;
    const before = await scrape();
    gateway.script('+9647730000009', { status: 503 });
    await requestReset('+9647730000009');
    await settled('+9647730000009', 'SENT');
    const after = await scrape();
    expect(['sent', 'failed', 'retried', 'dead'].map((o) => value(after, series(o)) - value(before, series(o)))).toEqual([1, 1, 1, 0]);
    expect(value(after, 'lilium_notification_deliveries_total{channel="email",outcome="dead"}')).toBeGreaterThanOrEqual(3);
  });

  test('shows how many jobs wait in each queue and how long the oldest due one has waited', async () => {
    // A queue nobody works: its jobs wait.
    await sendJob(admin.socket, { queue: 'test-idle', note: 'one' });
    await sendJob(admin.socket, { queue: 'test-idle', note: 'two' });
    await until(async () => value(await scrape(), 'lilium_jobs_queued{queue="test-idle"}') === 2, 10_000);
    await until(async () => value(await scrape(), 'lilium_jobs_oldest_age_seconds{queue="test-idle"}') > 0, 10_000);
    expect(await scrape()).toMatch(/^lilium_jobs_queued\{queue="delivery"\} \d+$/m);
  });
});
