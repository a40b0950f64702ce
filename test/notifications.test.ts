import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import type { InputOf, Locale, Notification, NotificationKind, Role } from '../protocol/index.js';
import { UnreadCounts1764200600000 } from '../db/migrations/1764200600000-unread-counts.js';
import { AppError } from '../server/errors.js';
import { notify, vendorManagers, vendorStaff, zoneAdmins } from '../server/notifications/notify.js';
import { acceptOrder } from '../server/orders/orders.service.js';
import type { Registration } from '../server/rpc/rpc.js';
import { deliver, dispatch, placeOrder } from './support/delivery.js';
import { fails } from './support/expect.js';
import { downAndUp } from './support/migrations.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { key, makeProduct, syncAll } from './support/ordering.js';
import { until } from './support/until.js';
import { WebhookPeer } from './support/webhook.js';
import { subscribeBrowser } from './support/webpush.js';

const password = 'notify-test-pass-1';
const tag = () => randomUUID().slice(0, 6);

/** A handler that accepts an order and then fails: the acceptance and everything it told roll back together. */
const acceptThenFail: Registration = {
  event: 'test:accept-then-fail',
  spec: { summary: 'test', roles: ['VENDOR', 'COMPANY_MANAGER'], input: z.strictObject({ orderId: z.uuid() }), result: z.object({}) },
  handler: (ctx, input: { orderId: string }) =>
    ctx.tx(async (ctx) => {
      await acceptOrder(ctx, input);
      throw new AppError('CONFLICT', 'refused after accepting');
    }),
};

/** Tells one person `times` times in one transaction, each by its own notify call: the unread counts must add up within it. */
const notifyEach: Registration = {
  event: 'test:notify-each',
  spec: {
    summary: 'test',
    roles: ['SUPER_ADMIN'],
    input: z.strictObject({ userId: z.uuid(), times: z.number().int().min(1) }),
    result: z.object({}),
  },
  handler: (ctx, input: { userId: string; times: number }) =>
    ctx.tx(async (ctx) => {
      for (let i = 0; i < input.times; i++) await notify(ctx, { kind: 'account.created', userIds: [input.userId], vars: { name: `n${i}`, hours: 1 } });
      return {};
    }),
};

let h: Harness;
let gateway: WebhookPeer;
let su: Session;
let zoneId: string;
/** Staff of a vendor that no test here orders from: it must never hear anything. */
let outsider: Session;

beforeAll(async () => {
  gateway = await WebhookPeer.start();
  h = await startHarness({
    redis: true,
    env: { RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_S: '100000' },
    extraHandlers: [acceptThenFail, notifyEach],
    channels: gateway.channels,
  });
  su = await h.login('superadmin@demo.lilium');
  zoneId = (await call(su.socket, 'zones:list', {})).items[0]!.id;
  outsider = await h.login('vendor1@demo.lilium');
});
afterAll(async () => {
  await h.close();
  await gateway.stop();
});

/** A new account, signed in. Its email starts with what the harness reads its app from. */
async function account(role: Role, fields: Partial<InputOf<'users:create'>> = {}): Promise<Session & { name: string; email: string }> {
  const prefix = { SHOP_OWNER: 'shop', DRIVER: 'driver', VENDOR: 'staff', COMPANY_MANAGER: 'manager', ADMIN: 'admin', SUPER_ADMIN: 'super' }[role];
  const email = `${prefix}-${tag()}@test.lilium`;
  const name = `${prefix} ${tag()}`;
  await call(su.socket, 'users:create', { role, name, email, password, ...fields });
  return { ...(await h.login(email, { password })), name, email };
}

type Person = Awaited<ReturnType<typeof account>>;
interface World {
  vendorId: string;
  vendor: string;
  /** English-reading VENDOR staff. */
  staff: Person;
  /** Arabic-reading COMPANY_MANAGER (chosen). */
  manager: Person;
  /** A shop owner who chose no locale: the deployment's default, Arabic. */
  shop: Person;
  shopName: string;
  /** Two drivers of the vendor's fleet, reading English. */
  driver: Person;
  driver2: Person;
  productId: string;
}

/** A vendor of its own (no minimum order, 1 IQD delivery fee), its people, a shop and a product at 10 IQD. */
async function world(): Promise<World> {
  const vendor = `Vendor ${tag()}`;
  const { id: vendorId } = await call(su.socket, 'vendors:create', {
    name: vendor,
    commissionBps: 1000,
    zones: [{ zoneId, deliveryFee: 1000, minOrderValue: 0 }],
  });
  await call(su.socket, 'vendors:set-status', { id: vendorId, status: 'APPROVED', reason: 'test' });
  const staff = await account('VENDOR', { vendorId, locale: 'en' });
  const manager = await account('COMPANY_MANAGER', { vendorId, locale: 'ar' });
  const driver = await account('DRIVER', { vendorId, zoneIds: [zoneId], locale: 'en' });
  const driver2 = await account('DRIVER', { vendorId, zoneIds: [zoneId], locale: 'en' });
  for (const d of [driver, driver2]) await call(d.socket, 'driver:availability', { available: true });
  const shopName = `Shop ${tag()}`;
  const shop = await account('SHOP_OWNER', { shop: { name: shopName, zoneId } });
  const product = await makeProduct(h, staff, { zoneIds: [zoneId] });
  return { vendorId, vendor, staff, manager, shop, shopName, driver, driver2, productId: product.id };
}

const list = async (s: Session, input: InputOf<'notifications:list'> = {}) => (await call(s.socket, 'notifications:list', { limit: 100, ...input })).items;
const ofKind = (s: Session, kind: NotificationKind) => list(s, { kind });
const said = (n: Notification) => ({ kind: n.kind, title: n.title, body: n.body, link: n.link });
const orderLink = (id: string) => ({ type: 'order', id });

/** What was delivered to an address (email, SMS), as the local gateway received it, in the order queued. */
async function sentTo(address: string, kind?: NotificationKind) {
  const rows = await h.q<{ id: string; channel: string; secret: boolean }>(
    `SELECT id, channel, secret FROM notification_deliveries WHERE address = $1 AND ($2::text IS NULL OR payload->>'kind' = $2) ORDER BY created_at, id`,
    [address, kind ?? null],
  );
  const got = (id: string) => gateway.received.find((r) => r.message.id === id)?.message;
  await until(async () => rows.every((r) => got(r.id)));
  return rows.map((r) => {
    const m = got(r.id)!;
    return { channel: r.channel, kind: m.kind, secret: r.secret, locale: m.locale, url: m.url, body: m.body };
  });
}

describe('who hears what', () => {
  test('a new order tells the vendor’s staff and managers, each in their language, and nobody else', async () => {
    const w = await world();
    const toStaff = h.next(w.staff.socket, 'notification:new', (p) => p.data.notification.kind === 'order.new');
    const order = await placeOrder(w.shop, w.productId);
    const pushed = await toStaff;
    const [staffNote] = await ofKind(w.staff, 'order.new');
    expect(pushed.data).toEqual({ notification: staffNote, unread: 2 }); // its welcome, and this
    expect(said(staffNote!)).toEqual({
      kind: 'order.new',
      title: `New order #${order.number}`,
      body: `${w.shopName} ordered 11 IQD.`,
      link: orderLink(order.id),
    });
    expect((await ofKind(w.manager, 'order.new')).map(said)).toEqual([
      { kind: 'order.new', title: `طلب جديد رقم ${order.number}`, body: `طلب من ${w.shopName} بقيمة 11 IQD.`, link: orderLink(order.id) },
    ]);
    expect(await ofKind(w.shop, 'order.new')).toEqual([]);
    expect(await ofKind(outsider, 'order.new')).toEqual([]);
    const told = await h.q<{ user_id: string }>(`SELECT user_id FROM notifications WHERE link_id = $1`, [order.id]);
    expect(told.map((t) => t.user_id).sort()).toEqual([w.staff.userId, w.manager.userId].sort());
  });

  test('each step of an order reaches its shop owner, in Arabic by default; the shop is not told what it did itself', async () => {
    const w = await world();
    const v = w.vendor;
    const reduced = await placeOrder(w.shop, w.productId, 2);
    await call(w.staff.socket, 'order:reduce', { orderId: reduced.id, items: [{ productId: w.productId, quantity: 1 }], reason: 'only one left' });
    const onTheWay = await dispatch(w.staff, w.driver, reduced.id);
    const { code } = await call(w.shop.socket, 'delivery:code', { orderId: reduced.id });
    await call(w.driver.socket, 'delivery:status', { orderId: reduced.id, status: 'DELIVERED', code });
    const rejected = await placeOrder(w.shop, w.productId);
    await call(w.staff.socket, 'order:reject', { orderId: rejected.id, reason: 'closed today' });
    const cancelled = await placeOrder(w.shop, w.productId);
    await call(w.staff.socket, 'order:accept', { orderId: cancelled.id });
    await call(w.staff.socket, 'order:cancel', { orderId: cancelled.id, reason: 'truck broke down' });
    const failed = await placeOrder(w.shop, w.productId);
    await dispatch(w.staff, w.driver, failed.id);
    await call(w.driver.socket, 'delivery:status', { orderId: failed.id, status: 'FAILED', reason: 'shop closed' });
    const ownCancel = await placeOrder(w.shop, w.productId);
    await call(w.shop.socket, 'order:cancel', { orderId: ownCancel.id, reason: 'ordered twice' });

    const news = (await list(w.shop)).filter((n) => n.kind !== 'account.created').reverse();
    const eta = news.find((n) => n.kind === 'order.on_the_way')!;
    const minutes = Number(/خلال (\d+) دقيقة/.exec(eta.body)?.[1]);
    const expected = Math.max(1, Math.ceil((Date.parse(onTheWay.eta!) - Date.now()) / 60_000));
    expect(minutes === expected || minutes === expected + 1).toBe(true);
    expect(news.map(said)).toEqual([
      {
        kind: 'order.reduced',
        title: `تم تعديل الطلب رقم ${reduced.number}`,
        body: `خفّض ${v} كميات طلبك: only one left. المجموع الجديد 11 IQD.`,
        link: orderLink(reduced.id),
      },
      { kind: 'order.accepted', title: `تم قبول الطلب رقم ${reduced.number}`, body: `قبل ${v} طلبك.`, link: orderLink(reduced.id) },
      {
        kind: 'order.on_the_way',
        title: `الطلب رقم ${reduced.number} في الطريق`,
        body: `يصل طلبك من ${v} خلال ${minutes} دقيقة تقريبًا.`,
        link: orderLink(reduced.id),
      },
      { kind: 'order.delivered', title: `تم توصيل الطلب رقم ${reduced.number}`, body: `وصل طلبك من ${v}. المجموع 11 IQD.`, link: orderLink(reduced.id) },
      { kind: 'order.rejected', title: `تم رفض الطلب رقم ${rejected.number}`, body: `رفض ${v} طلبك: closed today`, link: orderLink(rejected.id) },
      { kind: 'order.accepted', title: `تم قبول الطلب رقم ${cancelled.number}`, body: `قبل ${v} طلبك.`, link: orderLink(cancelled.id) },
      { kind: 'order.cancelled', title: `تم إلغاء الطلب رقم ${cancelled.number}`, body: `أُلغي طلبك من ${v}: truck broke down`, link: orderLink(cancelled.id) },
      { kind: 'order.accepted', title: `تم قبول الطلب رقم ${failed.number}`, body: `قبل ${v} طلبك.`, link: orderLink(failed.id) },
      {
        kind: 'order.on_the_way',
        title: `الطلب رقم ${failed.number} في الطريق`,
        body: expect.stringMatching(/^يصل طلبك من .+ خلال \d+ دقيقة تقريبًا\.$/) as unknown as string,
        link: orderLink(failed.id),
      },
      { kind: 'order.failed', title: `تعذّر توصيل الطلب رقم ${failed.number}`, body: `تعذّر توصيل طلبك من ${v}: shop closed`, link: orderLink(failed.id) },
    ]);
    // The vendor's side heard only of the new orders (the shop's own cancellation included no news for anyone else).
    expect(new Set((await list(w.staff)).map((n) => n.kind))).toEqual(new Set(['account.created', 'order.new']));
  });

  test('a driver hears of an assignment, of losing it to another driver, and of its cancellation', async () => {
    const w = await world();
    const order = await placeOrder(w.shop, w.productId);
    await call(w.staff.socket, 'order:accept', { orderId: order.id });
    await call(w.staff.socket, 'delivery:assign', { orderId: order.id, driverId: w.driver.userId });
    await call(w.staff.socket, 'delivery:assign', { orderId: order.id, driverId: w.driver2.userId, reason: 'closer to the shop' });
    await call(w.staff.socket, 'order:cancel', { orderId: order.id, reason: 'shop asked' });
    const n = order.number;
    const assigned = {
      kind: 'delivery.assigned',
      title: `New delivery: order #${n}`,
      body: `Deliver the order from ${w.vendor} to ${w.shopName}.`,
      link: orderLink(order.id),
    };
    expect((await list(w.driver)).filter((x) => x.kind !== 'account.created').map(said)).toEqual([
      { kind: 'delivery.unassigned', title: `Order #${n} given to another driver`, body: `Order #${n} is no longer yours: closer to the shop`, link: null },
      assigned,
    ]);
    expect((await list(w.driver2)).filter((x) => x.kind !== 'account.created').map(said)).toEqual([
      {
        kind: 'delivery.cancelled',
        title: `Order #${n} cancelled`,
        body: `Do not deliver order #${n} to ${w.shopName}: it was cancelled: shop asked`,
        link: orderLink(order.id),
      },
      assigned,
    ]);
  });

  test('cash collected and each step of a settlement reach the vendor’s managers only', async () => {
    const w = await world();
    const order = await placeOrder(w.shop, w.productId);
    await deliver(w.staff, w.driver, w.shop, order.id);
    await call(w.driver.socket, 'cash:collect', { orderId: order.id, amount: order.total, idempotencyKey: key() });
    const settlement = await call(su.socket, 'settlements:create', { vendorId: w.vendorId, preset: 'daily', idempotencyKey: key() });
    expect(settlement.netPayable).toBe(9000); // 10 IQD of goods less 10% commission
    await call(su.socket, 'settlements:verify', { id: settlement.id });
    await call(su.socket, 'settlements:mark-paid', { id: settlement.id });
    const [from, to] = [settlement.periodStart.slice(0, 10), settlement.periodEnd.slice(0, 10)];
    const link = { type: 'settlement', id: settlement.id };
    const money = (await list(w.manager)).filter((n) => n.group === 'money');
    expect(money.map(said)).toEqual([
      { kind: 'settlement.paid', title: `تم دفع تسوية ${from} – ${to}`, body: 'دُفعت التسوية: 9 IQD.', link },
      { kind: 'settlement.verified', title: `تم التحقق من تسوية ${from} – ${to}`, body: 'تم التحقق من التسوية (صافي المستحق 9 IQD) وهي بانتظار الدفع.', link },
      { kind: 'settlement.created', title: `تسوية جديدة ${from} – ${to}`, body: 'أُعدّت تسوية تشمل 1 طلبًا، صافي المستحق 9 IQD.', link },
      {
        kind: 'cash.collected',
        title: `تحصيل نقدي للطلب رقم ${order.number}`,
        body: `حصّل ${w.driver.name} مبلغ 11 IQD عن الطلب رقم ${order.number}.`,
        link: orderLink(order.id),
      },
    ]);
    for (const other of [w.staff, w.shop, w.driver, outsider]) expect((await list(other)).filter((n) => n.group === 'money')).toEqual([]);
  });

  test('low stock is told to the vendor’s staff once per fall to the threshold, not on every sale', async () => {
    const w = await world();
    const product = await makeProduct(h, w.staff, { zoneIds: [zoneId], stock: 7, lowStockThreshold: 5, name: { ar: 'سكر ناعم', en: 'Fine sugar' } });
    const sell = (quantity: number) => placeOrder(w.shop, product.id, quantity);
    const told = async () => (await ofKind(w.staff, 'stock.low')).map((n) => n.body);
    await sell(1); // 6
    expect(await told()).toEqual([]);
    await sell(1); // 5: at the threshold
    await sell(1); // 4
    await sell(4); // 0
    expect(await told()).toEqual(['Fine sugar is down to 5 (alert at 5).']);
    await call(w.manager.socket, 'stock:adjust', { productId: product.id, delta: 3, reason: 'count', idempotencyKey: key() }); // 3: still low
    await call(w.manager.socket, 'stock:adjust', { productId: product.id, delta: 10, reason: 'delivery', idempotencyKey: key() }); // 13: above again
    expect(await told()).toEqual(['Fine sugar is down to 5 (alert at 5).']);
    await sell(9); // 4: a second fall
    expect(await told()).toEqual(['Fine sugar is down to 4 (alert at 5).', 'Fine sugar is down to 5 (alert at 5).']);
    expect((await ofKind(w.manager, 'stock.low')).map(said)[0]).toEqual({
      kind: 'stock.low',
      title: 'مخزون منخفض: سكر ناعم',
      body: 'بقي من سكر ناعم 4 فقط (حد التنبيه 5).',
      link: { type: 'product', id: product.id },
    });
    expect(await ofKind(w.shop, 'stock.low')).toEqual([]);
    expect(await ofKind(outsider, 'stock.low')).toEqual([]);
  });

  test('an account made without a password is sent a one-time set-password link to its login; with one, only a welcome', async () => {
    const email = `shop-${tag()}@test.lilium`;
    const made = await call(su.socket, 'users:create', { role: 'SHOP_OWNER', name: 'Noor', email, locale: 'en', shop: { name: 'Noor Market', zoneId } });
    expect(made.locale).toBe('en');
    const [mail, ...more] = await sentTo(email);
    expect(more).toEqual([]);
    expect(mail).toMatchObject({ channel: 'email', kind: 'account.created', secret: true, locale: 'en' });
    const link = new URL(mail!.url!);
    expect(`${link.origin}${link.pathname}`).toBe(`${h.app.deps.config.publicUrl}/set-password`);
    const token = link.searchParams.get('token')!;
    expect(mail!.body).toBe(`Hello Noor, your Lilium account is ready. Set your password within 72 hours at ${mail!.url}`);
    const [ttl] = await h.q<{ s: number }>(`SELECT extract(epoch FROM expires_at - created_at)::int AS s FROM password_resets WHERE user_id = $1`, [made.id]);
    expect(ttl!.s).toBe(3 * 86_400);
    // Nobody knows a password until the user sets one.
    await fails(h.login(email, { password }), 'UNAUTHENTICATED');
    const anon = await h.connect();
    await call(anon, 'auth:password-reset:confirm', { token, newPassword: 'my-very-own-password' });
    const noor = await h.login(email, { password: 'my-very-own-password' });
    const [welcome, ...others] = await list(noor);
    expect(others).toEqual([]);
    expect(said(welcome!)).toEqual({ kind: 'account.created', title: 'Welcome to Lilium', body: 'Hello Noor, your account is ready.', link: null });
    expect(JSON.stringify(await h.q(`SELECT * FROM notifications WHERE user_id = $1`, [made.id]))).not.toContain(token);

    const phone = `+9647801${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
    const driver = await call(su.socket, 'users:create', { role: 'DRIVER', name: 'Ali', phone, zoneIds: [zoneId] });
    const [sms] = await sentTo(phone);
    expect(sms).toMatchObject({ channel: 'sms', kind: 'account.created', secret: true, locale: 'ar' });
    expect(sms!.body).toBe(`أهلًا Ali، حسابك في ليليوم جاهز. عيّن كلمة المرور خلال 72 ساعة من هذا الرابط: ${sms!.url}`);
    expect(driver.locale).toBe('ar');

    // With a password chosen by the admin, a plain welcome, as every account message goes: in the app and to each login.
    const chosen = await account('DRIVER', { zoneIds: [zoneId], locale: 'en' });
    expect(await sentTo(chosen.email)).toEqual([
      { channel: 'email', kind: 'account.created', secret: false, locale: 'en', url: null, body: `Hello ${chosen.name}, your account is ready.` },
    ]);
    expect((await list(chosen)).map(said)).toEqual([
      { kind: 'account.created', title: 'Welcome to Lilium', body: `Hello ${chosen.name}, your account is ready.`, link: null },
    ]);
  });

  test('a password reset goes by email to an email login and by SMS to a phone login, and tells the account in the app without the link', async () => {
    const email = `shop-${tag()}@test.lilium`;
    const phone = `+9647802${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
    const user = await call(su.socket, 'users:create', { role: 'SHOP_OWNER', name: 'Huda', email, phone, password, shop: { name: 'Huda Market', zoneId } });
    const anon = await h.connect();
    await call(anon, 'auth:password-reset:request', { login: email });
    await call(anon, 'auth:password-reset:request', { login: phone });
    const [mail, ...moreMail] = await sentTo(email, 'account.password_reset');
    const [sms, ...moreSms] = await sentTo(phone, 'account.password_reset');
    expect([moreMail, moreSms]).toEqual([[], []]);
    expect(mail).toMatchObject({ channel: 'email', secret: true, locale: 'ar' });
    expect(sms).toMatchObject({ channel: 'sms', secret: true, locale: 'ar' });
    for (const m of [mail!, sms!]) {
      expect(m.url).toMatch(new RegExp(`^${h.app.deps.config.publicUrl}/reset-password\\?token=[\\w-]{43}$`));
      expect(m.body).toBe(`أعد تعيين كلمة مرور ليليوم خلال 30 دقيقة من هذا الرابط: ${m.url} — إن لم تطلب ذلك فتجاهل هذه الرسالة.`);
    }
    const stored = await h.q<{ title: string; body: string }>(`SELECT title, body FROM notifications WHERE user_id = $1 AND kind = 'account.password_reset'`, [
      user.id,
    ]);
    expect(stored).toEqual([
      { title: 'طلب إعادة تعيين كلمة المرور', body: 'طُلبت إعادة تعيين كلمة مرورك. إن لم تكن أنت فتجاهل ذلك، وتبقى كلمة مرورك كما هي.' },
      { title: 'طلب إعادة تعيين كلمة المرور', body: 'طُلبت إعادة تعيين كلمة مرورك. إن لم تكن أنت فتجاهل ذلك، وتبقى كلمة مرورك كما هي.' },
    ]);
  });

  test('an event that rolls back leaves no notification and pushes nothing', async () => {
    const w = await world();
    const order = await placeOrder(w.shop, w.productId);
    const unread = await call(w.shop.socket, 'notifications:unread-count', {});
    await fails(call(w.staff.socket, 'test:accept-then-fail' as 'me:get', { orderId: order.id } as never), 'CONFLICT');
    expect((await call(w.staff.socket, 'orders:get', { id: order.id })).status).toBe('PENDING');
    expect(await ofKind(w.shop, 'order.accepted')).toEqual([]);
    expect(await call(w.shop.socket, 'notifications:unread-count', {})).toEqual(unread);
    const pushes = () =>
      h.q(`SELECT 1 FROM outbox WHERE event = 'notification:new' AND $1 = ANY(rooms) AND data->'notification'->>'kind' = 'order.accepted'`, [
        `user:${w.shop.userId}`,
      ]);
    expect(await pushes()).toEqual([]);
    // The same step for real: told once.
    const pushed = h.next(w.shop.socket, 'notification:new');
    await call(w.staff.socket, 'order:accept', { orderId: order.id });
    expect((await pushed).data.notification.kind).toBe('order.accepted');
    expect(await ofKind(w.shop, 'order.accepted')).toHaveLength(1);
    expect(await pushes()).toHaveLength(1);
  });
});

test('the recipient lookups: a vendor’s active staff and managers, its managers, and the admins who reach a zone', async () => {
  const w = await world();
  const db = h.app.deps.db;
  const leaver = await account('VENDOR', { vendorId: w.vendorId });
  await call(su.socket, 'users:set-status', { id: leaver.userId, status: 'DISABLED' });
  expect((await vendorStaff(db, w.vendorId)).sort()).toEqual([w.staff.userId, w.manager.userId].sort());
  expect(await vendorManagers(db, w.vendorId)).toEqual([w.manager.userId]);
  const otherZone = (await call(su.socket, 'zones:list', {})).items.find((z) => z.id !== zoneId)!.id;
  const here = await account('ADMIN', { zoneIds: [zoneId] });
  await account('ADMIN', { zoneIds: [otherZone] });
  const unlimited = await h.q<{ id: string }>(`SELECT id FROM users WHERE email IN ('superadmin@demo.lilium', 'admin@demo.lilium')`);
  expect((await zoneAdmins(db, zoneId)).sort()).toEqual([here.userId, ...unlimited.map((u) => u.id)].sort());
});

describe('the notification centre', () => {
  test('notification:new reaches every socket of the recipient, on every node, and feed:sync gives it back', async () => {
    const w = await world();
    const node = await h.spawnNode();
    const there = await h.login(w.staff.email, { url: node.url, password });
    const here = await h.login(w.staff.email, { password });
    const seen = (await syncAll(here.socket, 0)).at(-1)?.seq ?? 0;
    const pushes = [w.staff, here, there].map((s) => h.next(s.socket, 'notification:new'));
    const order = await placeOrder(w.shop, w.productId);
    const got = await Promise.all(pushes);
    for (const p of got) expect(p).toEqual(got[0]);
    expect(got[0]!.data.notification.link).toEqual(orderLink(order.id));
    const missed = (await syncAll(there.socket, seen)).filter((e) => e.event === 'notification:new');
    expect(missed).toEqual([got[0]]);
  });

  test('list pages newest first, filters unread and kind; read marks ids or all, and answers exact counts', async () => {
    const w = await world();
    const orders = [await placeOrder(w.shop, w.productId), await placeOrder(w.shop, w.productId), await placeOrder(w.shop, w.productId)];
    const all = await list(w.staff);
    expect(all.map((n) => n.kind)).toEqual(['order.new', 'order.new', 'order.new', 'account.created']);
    expect(all.slice(0, 3).map((n) => n.link!.id)).toEqual(orders.map((o) => o.id).reverse());
    const first = await call(w.staff.socket, 'notifications:list', { limit: 3 });
    expect(first.items).toEqual(all.slice(0, 3));
    const second = await call(w.staff.socket, 'notifications:list', { limit: 3, cursor: first.nextCursor! });
    expect(second).toEqual({ items: all.slice(3), nextCursor: null });
    expect(await list(w.staff, { kind: 'account.created' })).toEqual(all.slice(3));
    expect(await call(w.staff.socket, 'notifications:unread-count', {})).toEqual({ unread: 4 });

    await placeOrder(w.shop, w.productId); // a fifth, newest of all
    const [shopWelcome] = await list(w.shop);
    const elsewhere = await h.login(w.staff.email, { password });
    const told = h.next(elsewhere.socket, 'notification:read');
    expect(await call(w.staff.socket, 'notifications:read', { ids: [all[0]!.id] })).toEqual({ updated: 1, unread: 4 });
    expect(await told).toEqual({ ids: [all[0]!.id], unread: 4 });
    expect(await call(w.staff.socket, 'notifications:read', { ids: [all[0]!.id, all[0]!.id] })).toEqual({ updated: 0, unread: 4 });
    const stranger = randomUUID();
    await fails(call(w.staff.socket, 'notifications:read', { ids: [all[1]!.id, shopWelcome!.id, stranger] }), 'NOT_FOUND', {
      ids: [shopWelcome!.id, stranger],
    });
    expect((await list(w.staff, { unread: true })).map((n) => n.id)).toEqual([(await list(w.staff))[0]!.id, ...all.slice(1).map((n) => n.id)]);
    const read = await list(w.staff, { unread: false });
    expect(read.map((n) => n.id)).toEqual([all[0]!.id]);
    expect(Date.parse(read[0]!.readAt!)).not.toBeNaN();

    expect(await call(w.staff.socket, 'notifications:read', { all: true })).toEqual({ updated: 4, unread: 0 });
    expect(await list(w.staff, { unread: true })).toEqual([]);
    expect(await call(w.staff.socket, 'notifications:unread-count', {})).toEqual({ unread: 0 });
    // Another's notifications were not touched.
    expect((await list(w.shop, { unread: true })).map((n) => n.id)).toContain(shopWelcome!.id);
  });

  test('the unread count is kept: it adds up within a transaction, and concurrent notices and read-alls leave it exact', async () => {
    const w = await world();
    const counted = async () => (await call(w.staff.socket, 'notifications:unread-count', {})).unread;
    const start = await counted();
    const told: number[] = [];
    w.staff.socket.on('notification:new', (p) => told.push(p.data.unread));
    await call(su.socket, 'test:notify-each' as never, { userId: w.staff.userId, times: 3 } as never);
    await until(async () => told.length === 3);
    expect(told).toEqual([start + 1, start + 2, start + 3]);
    expect(await counted()).toBe(start + 3);

    // Notices from many transactions at once, read-alls between them: no increment or decrement lost or doubled.
    await Promise.all([
      ...Array.from({ length: 12 }, () => call(su.socket, 'test:notify-each' as never, { userId: w.staff.userId, times: 2 } as never)),
      ...Array.from({ length: 4 }, () => call(w.staff.socket, 'notifications:read', { all: true })),
    ]);
    const [{ n }] = (await h.q<{ n: number }>(`SELECT count(*)::int AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL`, [w.staff.userId])) as [
      { n: number },
    ];
    expect(await counted()).toBe(n);
    expect(await call(w.staff.socket, 'notifications:read', { all: true })).toEqual({ updated: n, unread: 0 });
    expect(await counted()).toBe(0);
  });

  test('push goes to those with a phone or browser registered, and to nobody else', async () => {
    const w = await world();
    const pushesTo = async (s: Session) =>
      (await h.q<{ n: number }>(`SELECT count(*)::int AS n FROM notification_deliveries WHERE user_id = $1 AND channel = 'push'`, [s.userId]))[0]!.n;
    await placeOrder(w.shop, w.productId);
    expect(await pushesTo(w.staff)).toBe(0);
    await subscribeBrowser(w.staff);
    await placeOrder(w.shop, w.productId);
    expect(await pushesTo(w.staff)).toBe(1);
  });

  test('a kept count left wrong (a node of an older version wrote or read without counting) is mended by the next read', async () => {
    const w = await world();
    await call(su.socket, 'test:notify-each' as never, { userId: w.staff.userId, times: 3 } as never);
    for (const wrong of [0, 99]) {
      await h.q(`UPDATE notification_unread SET unread = $2 WHERE user_id = $1`, [w.staff.userId, wrong]);
      const unread = await list(w.staff, { unread: true });
      const marked = await call(w.staff.socket, 'notifications:read', { ids: [unread[0]!.id] });
      const left = unread.length;
      expect(marked).toEqual({ updated: 1, unread: left - 1 });
      expect(await call(w.staff.socket, 'notifications:unread-count', {})).toEqual({ unread: left - 1 });
    }
  });

  test('the migration that keeps unread counts starts them from the notifications already there', async () => {
    const w = await world();
    await placeOrder(w.shop, w.productId);
    await call(w.manager.socket, 'notifications:read', { all: true });
    const counts = `SELECT u.id, coalesce(c.unread, 0) AS kept, (SELECT count(*)::int FROM notifications n WHERE n.user_id = u.id AND n.read_at IS NULL) AS counted
                      FROM users u LEFT JOIN notification_unread c ON c.user_id = u.id ORDER BY u.id`;
    await downAndUp(h, [new UnreadCounts1764200600000()]);
    const rows = await h.q<{ id: string; kept: number; counted: number }>(counts);
    expect(rows.filter((r) => r.kept !== r.counted)).toEqual([]);
    expect(rows.find((r) => r.id === w.staff.userId)).toMatchObject({ kept: 2 });
    expect(rows.find((r) => r.id === w.manager.userId)).toMatchObject({ kept: 0 });
  });

  test('bad input to the centre is BAD_REQUEST with the issue, and changes nothing', async () => {
    const w = await world();
    const read = (input: unknown) => call(w.staff.socket, 'notifications:read', input as never);
    await fails(read({}), 'BAD_REQUEST', [{ path: 'ids', code: 'custom', message: 'give either ids or all: true' }]);
    await fails(read({ ids: [randomUUID()], all: true }), 'BAD_REQUEST', [{ path: 'ids', code: 'custom' }]);
    await fails(read({ ids: [] }), 'BAD_REQUEST', [{ path: 'ids', code: 'too_small' }]);
    await fails(read({ ids: Array.from({ length: 101 }, () => randomUUID()) }), 'BAD_REQUEST', [{ path: 'ids', code: 'too_big' }]);
    await fails(read({ all: false }), 'BAD_REQUEST', [{ path: 'all', code: 'invalid_value' }]);
    await fails(read({ ids: ['nope'] }), 'BAD_REQUEST', [{ path: 'ids.0', code: 'invalid_format' }]);
    await fails(call(w.staff.socket, 'notifications:list', { kind: 'order.lost' } as never), 'BAD_REQUEST', [{ path: 'kind', code: 'invalid_value' }]);
    await fails(call(w.staff.socket, 'notifications:list', { cursor: 'garbage' }), 'BAD_REQUEST');
    expect(await call(w.staff.socket, 'notifications:unread-count', {})).toEqual({ unread: 1 });
  });

  test('preferences answer the role’s defaults, keep what is not named, and refuse to turn account messages off', async () => {
    const w = await world();
    const off = { push: false, email: false, sms: false };
    const push = { push: true, email: false, sms: false };
    const always = { push: true, email: true, sms: true };
    expect(await call(w.staff.socket, 'notifications:preferences:get', {})).toEqual({ orders: push, delivery: off, money: off, stock: push, account: always });
    expect(await call(w.manager.socket, 'notifications:preferences:get', {})).toEqual({
      orders: push,
      delivery: off,
      money: { push: true, email: true, sms: false },
      stock: push,
      account: always,
    });
    expect(await call(w.shop.socket, 'notifications:preferences:get', {})).toEqual({ orders: push, delivery: off, money: off, stock: off, account: always });
    expect(await call(w.driver.socket, 'notifications:preferences:get', {})).toEqual({ orders: off, delivery: push, money: off, stock: off, account: always });

    const set = (input: unknown) => call(w.staff.socket, 'notifications:preferences:set', input as never);
    const chosen = {
      orders: { push: false, email: false, sms: true },
      delivery: off,
      money: { push: false, email: true, sms: false },
      stock: push,
      account: always,
    };
    expect(await set({ orders: { push: false, sms: true }, money: { email: true } })).toEqual(chosen);
    expect(await set({ account: { push: true } })).toEqual(chosen);
    await fails(set({ account: { email: false, sms: false }, stock: { push: false } }), 'BAD_REQUEST', { group: 'account', channels: ['email', 'sms'] });
    await fails(set({}), 'BAD_REQUEST', [{ path: '', code: 'custom', message: 'nothing to change' }]);
    await fails(set({ orders: {} }), 'BAD_REQUEST', [{ path: 'orders', code: 'custom', message: 'name at least one channel' }]);
    await fails(set({ orders: { fax: true } }), 'BAD_REQUEST', [
      { path: 'orders', code: 'unrecognized_keys' },
      { path: 'orders', code: 'custom', message: 'name at least one channel' },
    ]);
    await fails(set({ orders: { push: 'yes' } }), 'BAD_REQUEST', [{ path: 'orders.push', code: 'invalid_type' }]);
    expect(await call(w.staff.socket, 'notifications:preferences:get', {})).toEqual(chosen);
    // Another user's are their own.
    expect((await call(w.manager.socket, 'notifications:preferences:get', {})).orders).toEqual(push);
  });

  test('a user’s locale is the deployment’s default until they choose one with me:update', async () => {
    const w = await world();
    expect((await call(w.shop.socket, 'me:get', {})).locale).toBe('ar');
    expect((await call(w.shop.socket, 'me:update', { locale: 'en' })).locale).toBe('en');
    expect((await call(su.socket, 'users:get', { id: w.shop.userId })).locale).toBe('en');
    await fails(call(w.shop.socket, 'me:update', { locale: 'fr' } as never), 'BAD_REQUEST', [{ path: 'locale', code: 'invalid_value' }]);
    const order = await placeOrder(w.shop, w.productId);
    await call(w.staff.socket, 'order:accept', { orderId: order.id });
    expect((await ofKind(w.shop, 'order.accepted')).map(said)).toEqual([
      { kind: 'order.accepted', title: `Order #${order.number} accepted`, body: `${w.vendor} accepted your order.`, link: orderLink(order.id) },
    ]);
  });
});
