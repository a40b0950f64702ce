import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call, RpcError } from '../protocol/client.js';
import { Roles, type Role } from '../protocol/common.js';
import { eventNames, events, type EventName } from '../protocol/index.js';
import { allows, type Access } from '../protocol/spec.js';
import { CSV_COLUMNS } from '../server/catalog/import.service.js';
import { deliver, placeOrder } from './support/delivery.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { upload } from './support/images.js';
import { key, makeProduct, makeShops, syncAll } from './support/ordering.js';

const logins: Record<Role, string> = {
  SUPER_ADMIN: 'superadmin@demo.lilium',
  ADMIN: 'admin@demo.lilium',
  COMPANY_MANAGER: 'manager1@demo.lilium',
  VENDOR: 'vendor1@demo.lilium',
  SHOP_OWNER: 'shop1@demo.lilium',
  DRIVER: 'driver1@demo.lilium',
};
// Ending a session would spoil the calls after it.
const LAST: string[] = ['auth:logout'];
const ordered = [...eventNames.filter((e) => !LAST.includes(e)), ...eventNames.filter((e) => LAST.includes(e))];

let h: Harness;
const sessions = {} as Record<Role, Session>;
beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_BURST: '10000' } });
  for (const role of Roles) sessions[role] = await h.login(logins[role]);
});
afterAll(() => h.close());

async function outcome(socket: Session['socket'], event: EventName) {
  try {
    await call(socket, event, {} as never);
    return 'OK';
  } catch (e) {
    const err = e as RpcError;
    if (err.code === 'FORBIDDEN' && (err.details as { reason?: string })?.reason === 'role') return 'DENIED';
    return err.code;
  }
}

test('every event has an allow-list in protocol/ naming only known roles', () => {
  for (const e of eventNames) {
    const roles = events[e].roles as Access;
    expect(roles === 'anyone' || roles === 'signedIn' || (roles.length > 0 && roles.every((r) => (Roles as readonly string[]).includes(r))), e).toBe(true);
  }
});

test('every event answers every role (and an anonymous socket) exactly as its allow-list says', async () => {
  const anonymous = await h.connect();
  const mismatches: string[] = [];
  for (const event of ordered) {
    const spec = events[event].roles;
    const anon = await outcome(anonymous, event);
    const anonAllowed = allows(spec, undefined);
    if (anonAllowed === (anon === 'UNAUTHENTICATED')) mismatches.push(`${event} anonymous → ${anon}`);
    for (const role of Roles) {
      const got = await outcome(sessions[role].socket, event);
      const allowed = allows(spec, role);
      if (allowed === (got === 'DENIED') || got === 'UNAUTHENTICATED') mismatches.push(`${event} as ${role} → ${got}`);
    }
  }
  expect(mismatches).toEqual([]);
});

/**
 * An ADMIN given zones sees and acts only in them, on every event it may call: objects outside are NOT_FOUND and
 * absent from lists; whatever spans the whole platform, or would be placed outside its zones, is FORBIDDEN
 * `{ reason: 'zone' }`.
 */
describe('a zone-limited admin', () => {
  const password = 'zone-limited-pass-1';
  let su: Session, limited: Session;
  let zones: Record<string, string>;
  // Outside KARKH: a vendor serving only RUSAFA, its product, order, driver, shop owner, promotion and settlement.
  const out = {} as {
    vendor: string;
    product: string;
    order: string;
    pending: string;
    driver: string;
    shopOwner: string;
    promotion: string;
    settlement: string;
  };
  // A vendor serving every zone with a product sold only in RUSAFA, and a platform-wide promotion.
  let both: string, bothProduct: string, platformPromotion: string;
  let csvUpload: string;
  // Password-reset deliveries to a shop owner in KARKH and to one outside it.
  let karkhOwner: string, outDelivery: string;
  const day = { from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() };

  beforeAll(async () => {
    su = await h.login('superadmin@demo.lilium');
    zones = Object.fromEntries((await call(su.socket, 'zones:list', {})).items.map((z) => [z.code, z.id]));
    const terms = (codes: string[]) => codes.map((c) => ({ zoneId: zones[c]!, deliveryFee: 500, minOrderValue: 0 }));
    const email = `limited-${randomUUID().slice(0, 6)}@test.lilium`;
    await call(su.socket, 'users:create', { role: 'ADMIN', name: 'Karkh admin', email, password, zoneIds: [zones.KARKH!] });
    limited = await h.login(email, { password });

    out.vendor = (
      await call(su.socket, 'vendors:create', { name: `Rusafa only ${randomUUID().slice(0, 6)}`, commissionBps: 1000, zones: terms(['RUSAFA']) })
    ).id;
    both = (await call(su.socket, 'vendors:create', { name: `Everywhere ${randomUUID().slice(0, 6)}`, commissionBps: 1000, zones: terms(Object.keys(zones)) }))
      .id;
    for (const id of [out.vendor, both]) await call(su.socket, 'vendors:set-status', { id, status: 'APPROVED', reason: 'test' });
    out.product = (await makeProduct(h, su, { vendorId: out.vendor, zoneIds: [zones.RUSAFA!] })).id;
    bothProduct = (await makeProduct(h, su, { vendorId: both, zoneIds: [zones.RUSAFA!] })).id;

    const staffEmail = `out-staff-${randomUUID().slice(0, 6)}@test.lilium`;
    await call(su.socket, 'users:create', { role: 'VENDOR', name: 'Out staff', email: staffEmail, password, vendorId: out.vendor });
    const staff = await h.login(staffEmail, { password });
    const driverEmail = `driver-out-${randomUUID().slice(0, 6)}@test.lilium`;
    out.driver = (await call(su.socket, 'users:create', { role: 'DRIVER', name: 'Rusafa driver', email: driverEmail, password, zoneIds: [zones.RUSAFA!] })).id;
    const driver = await h.login(driverEmail, { password, app: 'driver' });
    await call(driver.socket, 'driver:availability', { available: true });
    const [shop] = await makeShops(h, su, 1, zones.RUSAFA!);
    out.shopOwner = shop!.userId;

    const delivered = await placeOrder(shop!, out.product);
    out.order = delivered.id;
    await deliver(staff, driver, shop!, delivered.id);
    await call(driver.socket, 'cash:collect', { orderId: delivered.id, amount: delivered.total, idempotencyKey: key() });
    out.settlement = (await call(su.socket, 'settlements:create', { vendorId: out.vendor, preset: 'daily', idempotencyKey: key() })).id;
    out.pending = (await placeOrder(shop!, out.product)).id;

    const promo = { name: { ar: 'عرض', en: 'Promo' }, kind: 'PERCENT', percentBps: 500, startsAt: day.from, endsAt: day.to } as const;
    out.promotion = (
      await call(su.socket, 'promotions:create', { ...promo, vendorId: out.vendor, zoneIds: [zones.RUSAFA!], couponCode: `OUT${randomUUID().slice(0, 6)}` })
    ).promotion.id;
    platformPromotion = (await call(su.socket, 'promotions:create', { ...promo, couponCode: `ALL${randomUUID().slice(0, 6)}` })).promotion.id;

    // Inside KARKH, so that each list has something it must show.
    const [karkhShop] = await makeShops(h, su, 1, zones.KARKH!);
    karkhOwner = karkhShop!.userId;
    const resetFor = async (userId: string) => {
      const [{ email }] = (await h.q<{ email: string }>('SELECT email FROM users WHERE id = $1', [userId])) as [{ email: string }];
      await call(await h.connect(), 'auth:password-reset:request', { login: email });
      return (await h.q<{ id: string }>('SELECT id FROM notification_deliveries WHERE user_id = $1', [userId]))[0]!.id;
    };
    await resetFor(karkhOwner);
    outDelivery = await resetFor(out.shopOwner);
    const karkhProduct = await makeProduct(h, su, { vendorId: both, zoneIds: [zones.KARKH!] });
    await placeOrder(karkhShop!, karkhProduct.id);
    await call(su.socket, 'promotions:create', { ...promo, vendorId: both, zoneIds: [zones.KARKH!], couponCode: `IN${randomUUID().slice(0, 6)}` });

    const csv = `${CSV_COLUMNS.join(',')}\nZ-1,ا,A,,,sugar,PIECE,1,1000,,1,5,0,false,ACTIVE,\n`;
    const up = await upload(h.url, limited.accessToken, Buffer.from(csv), { filename: 'p.csv', type: 'text/csv', kind: 'csv' });
    csvUpload = up.body.id;
  });

  type Answer = { code: string; details?: unknown } | { ok: unknown };
  const answer = (p: Promise<unknown>): Promise<Answer> =>
    p.then(
      (ok) => ({ ok }),
      (e: unknown) => {
        if (!(e instanceof RpcError)) throw e;
        return e.details === undefined ? { code: e.code } : { code: e.code, details: e.details };
      },
    );
  const NOT_FOUND = { code: 'NOT_FOUND' };
  const ZONE = { code: 'FORBIDDEN', details: { reason: 'zone' } };
  const inKarkh = (zoneIds: string[]) => zoneIds.includes(zones.KARKH!);
  /** A list answer: something in the zone is there, nothing outside it is. */
  const listed =
    <T>(items: (ok: never) => T[], inside: (item: T) => boolean, outside: string[] = [], idOf: (item: T) => string = (i) => (i as { id: string }).id) =>
    (a: Answer) => {
      expect(a).toHaveProperty('ok');
      const got = items((a as { ok: never }).ok);
      expect(got.length).toBeGreaterThan(0);
      expect(got.filter((i) => !inside(i))).toEqual([]);
      expect(got.map(idOf).filter((id) => outside.includes(id))).toEqual([]);
    };
  const refuses = (expected: Answer) => (a: Answer) => expect(a).toEqual(expected);

  type Row = { call: () => Promise<unknown>; then: (a: Answer) => void } | { unzoned: string };
  const own = { unzoned: 'acts on the caller’s own account or session' };
  const mine = { unzoned: 'the caller’s own notifications and preferences' };
  const rows = (): Record<EventName, Row> =>
    ({
      'auth:login': own,
      'auth:refresh': own,
      'auth:logout': own,
      'auth:password:change': own,
      'auth:password-reset:request': own,
      'auth:password-reset:confirm': own,
      'me:get': own,
      'me:update': own,
      'push:key': { unzoned: 'the deployment’s VAPID public key, the same for every browser' },
      'push:subscribe': own,
      'push:unsubscribe': own,
      'categories:tree': { unzoned: 'the catalogue’s structure, the same for every signed-in user' },
      'users:create': {
        call: () =>
          call(limited.socket, 'users:create', {
            role: 'SHOP_OWNER',
            name: 'S',
            email: `s-${randomUUID().slice(0, 6)}@test.lilium`,
            password,
            shop: { name: 'x', zoneId: zones.RUSAFA! },
          }),
        then: refuses(ZONE),
      },
      'users:list': {
        call: () => call(limited.socket, 'users:list', { limit: 100 }),
        then: listed(
          (r: { items: Array<{ id: string; zoneIds: string[] }> }) => r.items,
          (u) => inKarkh(u.zoneIds) || u.id === limited.userId,
          [out.shopOwner, out.driver],
        ),
      },
      'users:get': { call: () => call(limited.socket, 'users:get', { id: out.shopOwner }), then: refuses(NOT_FOUND) },
      'users:update': { call: () => call(limited.socket, 'users:update', { id: out.driver, name: 'Mine' }), then: refuses(NOT_FOUND) },
      'users:set-status': { call: () => call(limited.socket, 'users:set-status', { id: out.shopOwner, status: 'DISABLED' }), then: refuses(NOT_FOUND) },
      'users:delete': { call: () => call(limited.socket, 'users:delete', { id: out.shopOwner }), then: refuses(NOT_FOUND) },
      'users:unlock': { call: () => call(limited.socket, 'users:unlock', { id: out.shopOwner }), then: refuses(NOT_FOUND) },
      'zones:list': {
        call: () => call(limited.socket, 'zones:list', {}),
        then: listed(
          (r: { items: Array<{ id: string }> }) => r.items,
          (z) => z.id === zones.KARKH,
        ),
      },
      'zones:create': { call: () => call(limited.socket, 'zones:create', { code: 'ZLIMIT', name: { ar: 'س', en: 'Z' } }), then: refuses(ZONE) },
      'zones:update': { call: () => call(limited.socket, 'zones:update', { id: zones.RUSAFA!, active: false }), then: refuses(ZONE) },
      'feed:sync': {
        call: () => syncAll(limited.socket, 0),
        then: (a) =>
          listed(
            (events: Array<{ data: unknown }>) => events.map((e) => e.data as { id?: string; orderId?: string; vendorId?: string }),
            () => true,
            [out.order, out.pending, out.vendor],
            (d) => d.orderId ?? d.vendorId ?? d.id ?? '',
          )({ ok: (a as { ok: unknown }).ok }),
      },
      'vendors:create': {
        call: () =>
          call(limited.socket, 'vendors:create', {
            name: 'Elsewhere',
            commissionBps: 100,
            zones: [{ zoneId: zones.RUSAFA!, deliveryFee: 0, minOrderValue: 0 }],
          }),
        then: refuses(ZONE),
      },
      'vendors:list': {
        call: () => call(limited.socket, 'vendors:list', { limit: 100 }),
        then: listed(
          (r: { items: Array<{ id: string; zones: Array<{ zoneId: string }> }> }) => r.items,
          (v) => inKarkh(v.zones.map((z) => z.zoneId)),
          [out.vendor],
        ),
      },
      'vendors:get': { call: () => call(limited.socket, 'vendors:get', { id: out.vendor }), then: refuses(NOT_FOUND) },
      'vendors:update': { call: () => call(limited.socket, 'vendors:update', { id: out.vendor, name: 'Mine' }), then: refuses(NOT_FOUND) },
      'vendors:set-status': {
        call: () => call(limited.socket, 'vendors:set-status', { id: out.vendor, status: 'SUSPENDED', reason: 'x' }),
        then: refuses(NOT_FOUND),
      },
      'vendors:stats': { call: () => call(limited.socket, 'vendors:stats', { id: out.vendor, ...day }), then: refuses(NOT_FOUND) },
      'categories:create': { call: () => call(limited.socket, 'categories:create', { name: { ar: 'ف', en: 'Zone cat' } }), then: refuses(ZONE) },
      'categories:update': { call: () => categoryId().then((id) => call(limited.socket, 'categories:update', { id, position: 0 })), then: refuses(ZONE) },
      'categories:move': { call: () => categoryId().then((id) => call(limited.socket, 'categories:move', { id, parentId: null })), then: refuses(ZONE) },
      'categories:delete': { call: () => categoryId().then((id) => call(limited.socket, 'categories:delete', { id })), then: refuses(ZONE) },
      'products:list': {
        call: () => call(limited.socket, 'products:list', { limit: 100 }),
        then: listed(
          (r: { items: Array<{ id: string; zoneIds: string[] }> }) => r.items,
          (p) => inKarkh(p.zoneIds),
          [out.product, bothProduct],
        ),
      },
      'products:get': { call: () => call(limited.socket, 'products:get', { id: bothProduct }), then: refuses(NOT_FOUND) },
      'products:create': {
        call: () => makeProduct(h, limited, { vendorId: out.vendor, zoneIds: [zones.RUSAFA!] }),
        then: refuses(NOT_FOUND),
      },
      'products:update': { call: () => call(limited.socket, 'products:update', { id: out.product, price: 1 }), then: refuses(NOT_FOUND) },
      'products:delete': { call: () => call(limited.socket, 'products:delete', { id: bothProduct }), then: refuses(NOT_FOUND) },
      'products:import': { call: () => call(limited.socket, 'products:import', { uploadId: csvUpload, vendorId: out.vendor }), then: refuses(NOT_FOUND) },
      'products:export': { call: () => call(limited.socket, 'products:export', { vendorId: out.vendor }), then: refuses(NOT_FOUND) },
      'stock:adjust': {
        call: () => call(limited.socket, 'stock:adjust', { productId: out.product, delta: 1, reason: 'count', idempotencyKey: key() }),
        then: refuses(NOT_FOUND),
      },
      'stock:history': { call: () => call(limited.socket, 'stock:history', { productId: out.product }), then: refuses(NOT_FOUND) },
      'promotions:create': {
        call: () =>
          call(limited.socket, 'promotions:create', { name: { ar: 'ع', en: 'All' }, kind: 'PERCENT', percentBps: 100, startsAt: day.from, endsAt: day.to }),
        then: refuses(ZONE),
      },
      'promotions:list': {
        call: () => call(limited.socket, 'promotions:list', { limit: 100 }),
        then: listed(
          (r: { items: Array<{ id: string; zoneIds: string[] }> }) => r.items,
          (p) => inKarkh(p.zoneIds),
          [out.promotion, platformPromotion],
        ),
      },
      'promotions:get': { call: () => call(limited.socket, 'promotions:get', { id: platformPromotion }), then: refuses(NOT_FOUND) },
      'promotions:set-active': { call: () => call(limited.socket, 'promotions:set-active', { id: out.promotion, active: false }), then: refuses(NOT_FOUND) },
      'orders:list': {
        call: () => call(limited.socket, 'orders:list', { limit: 100 }),
        then: listed(
          (r: { items: Array<{ id: string; zoneId: string }> }) => r.items,
          (o) => o.zoneId === zones.KARKH,
          [out.order, out.pending],
        ),
      },
      'orders:get': { call: () => call(limited.socket, 'orders:get', { id: out.order }), then: refuses(NOT_FOUND) },
      'order:cancel': { call: () => call(limited.socket, 'order:cancel', { orderId: out.pending, reason: 'x' }), then: refuses(NOT_FOUND) },
      'drivers:available': { call: () => call(limited.socket, 'drivers:available', { orderId: out.pending }), then: refuses(NOT_FOUND) },
      'delivery:assign': { call: () => call(limited.socket, 'delivery:assign', { orderId: out.pending, driverId: out.driver }), then: refuses(NOT_FOUND) },
      'delivery:confirm-override': {
        call: () => call(limited.socket, 'delivery:confirm-override', { orderId: out.pending, reason: 'x' }),
        then: refuses(NOT_FOUND),
      },
      'cash:handover': {
        call: () => call(limited.socket, 'cash:handover', { driverId: out.driver, amount: 1, idempotencyKey: key() }),
        then: refuses(NOT_FOUND),
      },
      'settlements:create': {
        call: () => call(limited.socket, 'settlements:create', { vendorId: out.vendor, preset: 'daily', idempotencyKey: key() }),
        then: refuses(NOT_FOUND),
      },
      'settlements:list': {
        call: () => call(limited.socket, 'settlements:list', { limit: 100 }),
        then: (a) => expect((a as { ok: { items: unknown[] } }).ok.items).toEqual([]),
      },
      'settlements:get': { call: () => call(limited.socket, 'settlements:get', { id: out.settlement }), then: refuses(NOT_FOUND) },
      'settlements:verify': { call: () => call(limited.socket, 'settlements:verify', { id: out.settlement }), then: refuses(NOT_FOUND) },
      'settlements:mark-paid': { call: () => call(limited.socket, 'settlements:mark-paid', { id: out.settlement }), then: refuses(NOT_FOUND) },
      'settlements:export': {
        call: async () => {
          const { url, rows } = await call(limited.socket, 'settlements:export', {});
          return { rows, text: await (await fetch(`${h.url}${url}`)).text() };
        },
        then: (a) => {
          const { rows, text } = (a as { ok: { rows: number; text: string } }).ok;
          expect(rows).toBe(0);
          expect(text).not.toContain(out.settlement);
        },
      },
      'finance:vendor-balance': { call: () => call(limited.socket, 'finance:vendor-balance', { vendorId: out.vendor }), then: refuses(NOT_FOUND) },
      'finance:platform-earnings': { call: () => call(limited.socket, 'finance:platform-earnings', day), then: refuses(ZONE) },
      'finance:cash-flow': { call: () => call(limited.socket, 'finance:cash-flow', day), then: refuses(ZONE) },
      'finance:pending-cash': { call: () => call(limited.socket, 'finance:pending-cash', {}), then: refuses(ZONE) },
      'notifications:list': mine,
      'notifications:read': mine,
      'notifications:unread-count': mine,
      'notifications:preferences:get': mine,
      'notifications:preferences:set': mine,
      'notifications:deliveries': {
        call: () => call(limited.socket, 'notifications:deliveries', { limit: 100 }),
        then: listed(
          (r: { items: Array<{ id: string; userId: string | null }> }) => r.items,
          (d) => d.userId === karkhOwner,
          [outDelivery],
        ),
      },
      'notifications:deliveries:retry': { call: () => call(limited.socket, 'notifications:deliveries:retry', { id: outDelivery }), then: refuses(NOT_FOUND) },
    }) as Record<EventName, Row>;

  const categoryId = async () => (await h.q<{ id: string }>(`SELECT id FROM categories WHERE slug = 'sugar'`))[0]!.id;

  test('it changes only its own zones of what it reaches, keeps the others, and creates only inside its zones', async () => {
    const email = `two-zones-${randomUUID().slice(0, 6)}@test.lilium`;
    await call(su.socket, 'users:create', { role: 'ADMIN', name: 'Two zones', email, password, zoneIds: [zones.KARKH!, zones.MANSOUR!] });
    const two = await h.login(email, { password });
    const fees = (v: { zones: Array<{ zoneId: string; deliveryFee: number }> }) => Object.fromEntries(v.zones.map((z) => [z.zoneId, z.deliveryFee]));

    const vendor = await call(two.socket, 'vendors:update', { id: both, zones: [{ zoneId: zones.KARKH!, deliveryFee: 700, minOrderValue: 0 }] });
    expect(fees(vendor)).toEqual({ [zones.KARKH!]: 700, [zones.RUSAFA!]: 500, [zones.ADHAMIYA!]: 500 });
    expect(await answer(call(two.socket, 'vendors:update', { id: both, zones: [{ zoneId: zones.RUSAFA!, deliveryFee: 1, minOrderValue: 0 }] }))).toEqual(ZONE);
    expect(await answer(call(two.socket, 'vendors:create', { name: 'Nowhere', commissionBps: 100, zones: [] }))).toEqual(ZONE);

    const made = await makeProduct(h, two, { vendorId: both, zoneIds: undefined });
    expect(made.zoneIds).toEqual([zones.KARKH]);
    expect(await answer(makeProduct(h, two, { vendorId: both, zoneIds: [zones.KARKH!, zones.RUSAFA!] }))).toEqual(ZONE);
    const shared = await makeProduct(h, su, { vendorId: both, zoneIds: [zones.KARKH!, zones.RUSAFA!] });
    const moved = await call(two.socket, 'products:update', { id: shared.id, zoneIds: [] });
    expect(moved.zoneIds).toEqual([zones.RUSAFA]);
    expect((await call(su.socket, 'products:get', { id: shared.id })).zoneIds.sort()).toEqual([zones.RUSAFA!].sort());

    // An import follows the same rule, row by row.
    const line = (sku: string, zonesCell: string) =>
      CSV_COLUMNS.map((c) => ({ sku, name_ar: 'ا', name_en: 'A', category: 'sugar', unit: 'PIECE', price: '1000', zones: zonesCell })[c as string] ?? '').join(
        ',',
      );
    const file = [CSV_COLUMNS.join(','), line(`IMP-${randomUUID().slice(0, 6)}`, ''), line('IMP-OUT', 'RUSAFA'), line(shared.sku, '')].join('\n');
    const up = await upload(h.url, two.accessToken, Buffer.from(file), { filename: 'p.csv', type: 'text/csv', kind: 'csv' });
    const done = h.next(two.socket, 'import:progress', (r) => r.status !== 'RUNNING', 15_000);
    await call(two.socket, 'products:import', { uploadId: up.body.id, vendorId: both, mode: 'partial' });
    const report = await done;
    expect(report).toMatchObject({ status: 'DONE', created: 1, updated: 0 });
    expect(report.errors).toEqual([
      { row: 3, field: 'zones', message: 'outside your zones: RUSAFA' },
      { row: 4, field: 'sku', message: 'a product outside your zones has this SKU' },
    ]);
    const [imported] = await h.q<{ zone_ids: string[] }>(
      `SELECT array_agg(pz.zone_id::text) AS zone_ids FROM products p JOIN product_zones pz ON pz.product_id = p.id WHERE p.vendor_id = $1 AND p.sku LIKE 'IMP-%'`,
      [both],
    );
    expect(imported!.zone_ids).toEqual([zones.KARKH]);

    const driverEmail = `driver-two-${randomUUID().slice(0, 6)}@test.lilium`;
    const driver = await call(su.socket, 'users:create', {
      role: 'DRIVER',
      name: 'Shared',
      email: driverEmail,
      password,
      zoneIds: [zones.KARKH!, zones.RUSAFA!],
    });
    const rezoned = await call(two.socket, 'users:update', { id: driver.id, zoneIds: [zones.MANSOUR!] });
    expect([...rezoned.zoneIds].sort()).toEqual([zones.MANSOUR!, zones.RUSAFA!].sort());
    expect(await answer(call(two.socket, 'users:update', { id: driver.id, zoneIds: [zones.ADHAMIYA!] }))).toEqual(ZONE);

    const promo = { name: { ar: 'ع', en: 'Zoned' }, kind: 'PERCENT', percentBps: 100, startsAt: day.from, endsAt: day.to } as const;
    const zoned = await call(two.socket, 'promotions:create', { ...promo, zoneIds: [zones.KARKH!], couponCode: `KZ${randomUUID().slice(0, 6)}` });
    expect(zoned.promotion.zoneIds).toEqual([zones.KARKH]);
    expect(await answer(call(two.socket, 'promotions:create', { ...promo, zoneIds: [zones.KARKH!, zones.RUSAFA!] }))).toEqual(ZONE);
    expect(await answer(call(two.socket, 'promotions:create', { ...promo, vendorId: out.vendor, zoneIds: [zones.KARKH!] }))).toEqual(NOT_FOUND);
  });

  test('the table has a row for every event an ADMIN may call, and none for others', () => {
    const adminEvents = eventNames.filter((e) => allows(events[e].roles as Access, 'ADMIN'));
    expect(Object.keys(rows()).sort()).toEqual([...adminEvents].sort());
  });

  test('every event reaches nothing outside its zones', async () => {
    const wrong: string[] = [];
    for (const [event, row] of Object.entries(rows())) {
      if ('unzoned' in row) continue;
      const got = await answer(row.call());
      try {
        row.then(got);
      } catch (e) {
        wrong.push(`${event} → ${JSON.stringify(got).slice(0, 300)}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
