import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import type { User } from '../protocol/users.js';
import { codeOf, fails } from './support/expect.js';
import { startHarness, type Harness, type Session } from './support/harness.js';

let h: Harness;
let superadmin: Session, admin: Session, manager1: Session, manager2: Session;
let zones: Record<string, string>;
let vendor1: string, vendor2: string;

beforeAll(async () => {
  h = await startHarness();
  [superadmin, admin, manager1, manager2] = (await Promise.all(
    ['superadmin@demo.lilium', 'admin@demo.lilium', 'manager1@demo.lilium', 'manager2@demo.lilium'].map((e) => h.login(e)),
  )) as [Session, Session, Session, Session];
  zones = Object.fromEntries((await call(admin.socket, 'zones:list', {})).items.map((z) => [z.code, z.id]));
  vendor1 = (await call(manager1.socket, 'me:get', {})).vendorId!;
  vendor2 = (await call(manager2.socket, 'me:get', {})).vendorId!;
});
afterAll(() => h.close());

let n = 0;
const unique = (prefix: string) => `${prefix}${++n}-${Date.now()}@test.lilium`;
const password = 'a-long-enough-password';

describe('who creates whom', () => {
  test('an admin creates a shop owner with a shop, who can then sign in to the mobile app', async () => {
    const email = unique('newshop');
    const created = await call(admin.socket, 'users:create', {
      role: 'SHOP_OWNER',
      name: 'New Shop',
      email,
      password,
      shop: { name: 'Corner', zoneId: zones.KARKH! },
    });
    expect(created).toMatchObject({ role: 'SHOP_OWNER', email, zoneIds: [zones.KARKH], status: 'ACTIVE' });
    expect(created.shopId).toBeTruthy();
    const s = await h.login(email, { password, app: 'mobile' });
    expect(s.userId).toBe(created.id);
    expect(await h.audit('USER_CREATE', created.id)).toHaveLength(1);
  });

  test('a manager creates VENDOR staff of its own vendor only, and no other role', async () => {
    const staff = await call(manager1.socket, 'users:create', { role: 'VENDOR', name: 'Staff', email: unique('staff'), password });
    expect(staff).toMatchObject({ role: 'VENDOR', vendorId: vendor1 });
    expect(await codeOf(call(manager1.socket, 'users:create', { role: 'VENDOR', name: 'X', email: unique('x'), password, vendorId: vendor2 }))).toBe(
      'FORBIDDEN',
    );
    for (const role of ['ADMIN', 'SUPER_ADMIN', 'COMPANY_MANAGER', 'DRIVER'] as const) {
      expect(await codeOf(call(manager1.socket, 'users:create', { role, name: 'X', email: unique('x'), password, vendorId: vendor1 }))).toBe('FORBIDDEN');
    }
  });

  test('only a SUPER_ADMIN creates admins', async () => {
    expect(await codeOf(call(admin.socket, 'users:create', { role: 'ADMIN', name: 'A', email: unique('a'), password }))).toBe('FORBIDDEN');
    expect(await codeOf(call(admin.socket, 'users:create', { role: 'SUPER_ADMIN', name: 'A', email: unique('a'), password }))).toBe('FORBIDDEN');
    const created = await call(superadmin.socket, 'users:create', { role: 'ADMIN', name: 'Second admin', email: unique('admin'), password });
    expect(created.role).toBe('ADMIN');
  });

  test('bad shapes are refused with a code: missing shop, stray vendor, short password, duplicate email', async () => {
    expect(await codeOf(call(admin.socket, 'users:create', { role: 'SHOP_OWNER', name: 'S', email: unique('s'), password }))).toBe('BAD_REQUEST');
    expect(await codeOf(call(admin.socket, 'users:create', { role: 'VENDOR', name: 'V', email: unique('v'), password }))).toBe('BAD_REQUEST');
    expect(
      await codeOf(
        call(admin.socket, 'users:create', {
          role: 'SHOP_OWNER',
          name: 'S',
          email: unique('s'),
          password,
          vendorId: vendor1,
          shop: { name: 'x', zoneId: zones.KARKH! },
        }),
      ),
    ).toBe('BAD_REQUEST');
    await fails(call(admin.socket, 'users:create', { role: 'DRIVER', name: 'D', email: unique('d'), password: 'short' }), 'BAD_REQUEST', [
      { path: 'password', code: 'too_small' },
    ]);
    await fails(call(admin.socket, 'users:create', { role: 'DRIVER', name: 'D', email: 'SHOP1@demo.lilium', password }), 'CONFLICT', { field: 'email' });
    await fails(call(admin.socket, 'users:create', { role: 'DRIVER', name: 'D', password }), 'BAD_REQUEST', [{ path: 'email', code: 'custom' }]);
  });
});

describe('object-level rules', () => {
  test("vendor A's manager can neither read nor change vendor B's staff", async () => {
    const staffOfB = await h.login('vendor2@demo.lilium');
    expect(await codeOf(call(manager1.socket, 'users:get', { id: staffOfB.userId }))).toBe('FORBIDDEN');
    expect(await codeOf(call(manager1.socket, 'users:update', { id: staffOfB.userId, name: 'Mine now' }))).toBe('FORBIDDEN');
    expect(await codeOf(call(manager1.socket, 'users:set-status', { id: staffOfB.userId, status: 'DISABLED' }))).toBe('FORBIDDEN');
    const listed = await call(manager1.socket, 'users:list', { limit: 100 });
    expect(listed.items.every((u) => u.id === manager1.userId || (u.role === 'VENDOR' && u.vendorId === vendor1))).toBe(true);
    expect(listed.items.some((u) => u.id === staffOfB.userId)).toBe(false);
  });

  test('a manager cannot move its staff to another vendor or promote them', async () => {
    const staff = (await call(manager1.socket, 'users:list', { role: 'VENDOR' })).items[0]!;
    expect(await codeOf(call(manager1.socket, 'users:update', { id: staff.id, vendorId: vendor2 }))).toBe('FORBIDDEN');
    expect(await codeOf(call(manager1.socket, 'users:update', { id: staff.id, role: 'COMPANY_MANAGER' }))).toBe('FORBIDDEN');
  });

  test('an admin cannot touch admins; nobody disables or deletes themselves', async () => {
    expect(await codeOf(call(admin.socket, 'users:get', { id: superadmin.userId }))).toBe('FORBIDDEN');
    expect(await codeOf(call(admin.socket, 'users:set-status', { id: superadmin.userId, status: 'DISABLED' }))).toBe('FORBIDDEN');
    expect(await codeOf(call(superadmin.socket, 'users:set-status', { id: superadmin.userId, status: 'DISABLED' }))).toBe('FORBIDDEN');
    expect(await codeOf(call(superadmin.socket, 'users:delete', { id: superadmin.userId }))).toBe('FORBIDDEN');
  });

  test('a zone-limited admin sees and acts only in its zones', async () => {
    const email = unique('karkh-admin');
    await call(superadmin.socket, 'users:create', { role: 'ADMIN', name: 'Karkh admin', email, password, zoneIds: [zones.KARKH!] });
    const limited = await h.login(email, { password });
    expect((await call(limited.socket, 'zones:list', {})).items.map((z) => z.code)).toEqual(['KARKH']);

    const seen: User[] = [];
    for (let cursor: string | undefined, i = 0; i < 20; i++) {
      const p = await call(limited.socket, 'users:list', { limit: 10, cursor });
      seen.push(...p.items);
      if (!p.nextCursor) break;
      cursor = p.nextCursor;
    }
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.every((u) => u.id === limited.userId || u.zoneIds.includes(zones.KARKH!))).toBe(true);
    expect(seen.some((u) => u.role === 'ADMIN' && u.id !== limited.userId)).toBe(false);

    const elsewhere = (await call(admin.socket, 'users:list', { role: 'SHOP_OWNER', zoneId: zones.RUSAFA! })).items[0]!;
    // Outside its zones an account does not exist for it, as another tenant's does not.
    expect(await codeOf(call(limited.socket, 'users:get', { id: elsewhere.id }))).toBe('NOT_FOUND');
    expect(await codeOf(call(limited.socket, 'users:update', { id: elsewhere.id, name: 'x' }))).toBe('NOT_FOUND');
    await fails(
      call(limited.socket, 'users:create', { role: 'SHOP_OWNER', name: 'S', email: unique('s'), password, shop: { name: 'x', zoneId: zones.RUSAFA! } }),
      'FORBIDDEN',
      { reason: 'zone' },
    );
    const inside = await call(limited.socket, 'users:create', {
      role: 'SHOP_OWNER',
      name: 'S',
      email: unique('s'),
      password,
      shop: { name: 'x', zoneId: zones.KARKH! },
    });
    expect(inside.zoneIds).toEqual([zones.KARKH]);
    await fails(call(limited.socket, 'zones:create', { code: 'NEWZONE', name: { ar: 'جديدة', en: 'New' } }), 'FORBIDDEN', { reason: 'zone' });
  });
});

describe('lists, updates, status', () => {
  test('search and filters, with cursor pages that cover everything once', async () => {
    const found = await call(admin.socket, 'users:list', { q: 'shop1' });
    expect(found.items.map((u) => u.email)).toEqual(expect.arrayContaining(['shop1@demo.lilium', 'shop10@demo.lilium']));
    expect((await call(admin.socket, 'users:list', { q: '+9647730000002' })).items.map((u) => u.email)).toEqual(['shop2@demo.lilium']);
    expect((await call(admin.socket, 'users:list', { role: 'DRIVER' })).items.every((u) => u.role === 'DRIVER')).toBe(true);
    expect((await call(admin.socket, 'users:list', { vendorId: vendor1 })).items.every((u) => u.vendorId === vendor1)).toBe(true);

    const all = await call(admin.socket, 'users:list', { limit: 100 });
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const p = await call(admin.socket, 'users:list', { limit: 7, cursor });
      paged.push(...p.items.map((u) => u.id));
      cursor = p.nextCursor ?? undefined;
    } while (cursor);
    expect(paged).toEqual(all.items.map((u) => u.id));
    expect(await codeOf(call(admin.socket, 'users:list', { cursor: 'not-a-cursor' }))).toBe('BAD_REQUEST');
  });

  test('update changes fields; a duplicate phone is a CONFLICT', async () => {
    const target = (await call(admin.socket, 'users:list', { q: 'shop12@demo.lilium' })).items[0]!;
    const updated = await call(admin.socket, 'users:update', { id: target.id, name: 'Renamed', phone: '+9647009999999' });
    expect(updated).toMatchObject({ name: 'Renamed', phone: '+9647009999999', email: 'shop12@demo.lilium' });
    await fails(call(admin.socket, 'users:update', { id: target.id, phone: '+9647730000001' }), 'CONFLICT', { field: 'phone' });
    expect(await codeOf(call(admin.socket, 'users:update', { id: target.id, role: 'DRIVER' }))).toBe('BAD_REQUEST');
  });

  test('disabled accounts cannot sign in until enabled again; deleted ones leave the lists', async () => {
    const target = (await call(admin.socket, 'users:list', { q: 'shop13@demo.lilium' })).items[0]!;
    await call(admin.socket, 'users:set-status', { id: target.id, status: 'DISABLED' });
    expect(await codeOf(h.login('shop13@demo.lilium'))).toBe('UNAUTHENTICATED');
    await call(admin.socket, 'users:set-status', { id: target.id, status: 'ACTIVE' });
    await expect(h.login('shop13@demo.lilium')).resolves.toBeTruthy();

    await call(admin.socket, 'users:delete', { id: target.id });
    expect(await codeOf(h.login('shop13@demo.lilium'))).toBe('UNAUTHENTICATED');
    expect((await call(admin.socket, 'users:list', { q: 'shop13@demo.lilium' })).items).toEqual([]);
    expect(await codeOf(call(admin.socket, 'users:get', { id: target.id }))).toBe('NOT_FOUND');
  });

  test('me:update changes one’s own details', async () => {
    const s = await h.login('shop14@demo.lilium');
    const me = await call(s.socket, 'me:update', { name: 'Shop Fourteen' });
    expect(me.name).toBe('Shop Fourteen');
    await fails(call(s.socket, 'me:update', { email: 'shop1@demo.lilium' }), 'CONFLICT', { field: 'email' });
    await fails(call(s.socket, 'me:update', {}), 'BAD_REQUEST', [{ path: '', code: 'custom' }]);
  });
});

describe('zones', () => {
  test('admins add and change zones; codes are unique', async () => {
    const zone = await call(admin.socket, 'zones:create', { code: 'KADHIMIYA', name: { ar: 'الكاظمية', en: 'Kadhimiya' } });
    expect(zone).toMatchObject({ code: 'KADHIMIYA', active: true });
    expect(await codeOf(call(admin.socket, 'zones:create', { code: 'KADHIMIYA', name: { ar: 'x', en: 'x' } }))).toBe('CONFLICT');
    await fails(call(admin.socket, 'zones:create', { code: 'bad code', name: { ar: 'x', en: 'x' } }), 'BAD_REQUEST', [
      { path: 'code', code: 'invalid_format' },
    ]);
    const off = await call(admin.socket, 'zones:update', { id: zone.id, active: false });
    expect(off.active).toBe(false);
    await fails(
      call(admin.socket, 'users:create', { role: 'SHOP_OWNER', name: 'S', email: unique('s'), password, shop: { name: 'x', zoneId: zone.id } }),
      'NOT_FOUND',
      { zoneIds: [zone.id] },
    );
  });
});
