import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { commissionAt } from '../server/vendors/vendors.service.js';
import { codeOf, rejection } from './support/expect.js';
import { startHarness, type Harness, type Session } from './support/harness.js';

let h: Harness;
let admin: Session, manager1: Session, staff1: Session, shop1: Session;
let vendor1: string, vendor2: string;
let zones: Record<string, string>;

beforeAll(async () => {
  h = await startHarness();
  [admin, manager1, staff1, shop1] = (await Promise.all(
    ['admin@demo.lilium', 'manager1@demo.lilium', 'vendor1@demo.lilium', 'shop1@demo.lilium'].map((e) => h.login(e)),
  )) as [Session, Session, Session, Session];
  vendor1 = (await call(manager1.socket, 'me:get', {})).vendorId!;
  vendor2 = (await call((await h.login('manager2@demo.lilium')).socket, 'me:get', {})).vendorId!;
  zones = Object.fromEntries((await call(admin.socket, 'zones:list', {})).items.map((z) => [z.code, z.id]));
});
afterAll(() => h.close());

describe('onboarding and status', () => {
  test('a new vendor starts PENDING and moves only along the allowed transitions, audited', async () => {
    const v = await call(admin.socket, 'vendors:create', {
      name: 'Sumer Traders',
      commissionBps: 900,
      zones: [{ zoneId: zones.KARKH!, deliveryFee: 2000_000, minOrderValue: 50_000_000 }],
    });
    expect(v).toMatchObject({ status: 'PENDING', commissionBps: 900, zones: [{ zoneId: zones.KARKH, deliveryFee: 2000_000, minOrderValue: 50_000_000 }] });
    expect(await rejection(call(admin.socket, 'vendors:set-status', { id: v.id, status: 'SUSPENDED', reason: 'x' }))).toMatchObject({
      code: 'INVALID_TRANSITION',
      message: 'a PENDING vendor cannot become SUSPENDED',
      details: { from: 'PENDING', to: 'SUSPENDED' },
    });
    expect((await call(admin.socket, 'vendors:set-status', { id: v.id, status: 'REJECTED', reason: 'papers missing' })).status).toBe('REJECTED');
    expect((await call(admin.socket, 'vendors:set-status', { id: v.id, status: 'APPROVED', reason: 'papers arrived' })).status).toBe('APPROVED');
    expect(await rejection(call(admin.socket, 'vendors:set-status', { id: v.id, status: 'APPROVED', reason: 'again' }))).toMatchObject({
      code: 'INVALID_TRANSITION',
      details: { from: 'APPROVED', to: 'APPROVED' },
    });
    expect((await h.audit('VENDOR_STATUS', v.id)).map((a) => a.details.to)).toEqual(['APPROVED', 'REJECTED']);
  });

  test('suspending a vendor hides its products at once, pushes the change to its zones, and reactivation brings them back', async () => {
    const listed = async () => (await call(shop1.socket, 'products:list', { vendorId: vendor1, limit: 100 })).items.length;
    const shown = await listed();
    expect(shown).toBeGreaterThan(0);
    const some = (await call(shop1.socket, 'products:list', { vendorId: vendor1, limit: 1 })).items[0]!;
    // Only this vendor's push: the previous test's approvals may still be on their way.
    const pushed = h.next(shop1.socket, 'vendor:status', (p) => p.data.vendorId === vendor1);
    await call(admin.socket, 'vendors:set-status', { id: vendor1, status: 'SUSPENDED', reason: 'quality audit' });
    expect(await pushed).toMatchObject({
      seq: expect.any(Number),
      event: 'vendor:status',
      data: { vendorId: vendor1, status: 'SUSPENDED', reason: 'quality audit' },
    });
    expect(await listed()).toBe(0);
    expect(await codeOf(call(shop1.socket, 'products:get', { id: some.id }))).toBe('NOT_FOUND');
    // Its own staff still see their catalogue to fix it.
    expect((await call(staff1.socket, 'products:list', { vendorId: vendor1, limit: 1 })).items).toHaveLength(1);
    await call(admin.socket, 'vendors:set-status', { id: vendor1, status: 'APPROVED', reason: 'audit passed' });
    expect(await listed()).toBe(shown);
  });
});

describe('commission and zones', () => {
  test('commission changes keep their history; the rate at a moment is the one then in force', async () => {
    const before = new Date();
    const v = await call(admin.socket, 'vendors:update', { id: vendor2, commissionBps: 1111 });
    expect(v.commissionBps).toBe(1111);
    expect(v.commissionHistory.map((c) => c.commissionBps)).toEqual([1111, 1000]);
    const ctxReader = { manager: h.app.deps.db.source.manager, query: (sql: string, p?: unknown[]) => h.q(sql, p) };
    expect(await commissionAt(ctxReader as never, vendor2)).toBe(1111);
    expect(await commissionAt(ctxReader as never, vendor2, new Date(before.getTime() - 1))).toBe(1000);
  });

  test('managers rename and re-zone their own vendor but never set commission or touch another', async () => {
    expect((await call(manager1.socket, 'vendors:update', { id: vendor1, name: 'Rafidain Wholesale Ltd' })).name).toBe('Rafidain Wholesale Ltd');
    expect(await codeOf(call(manager1.socket, 'vendors:update', { id: vendor1, commissionBps: 1 }))).toBe('FORBIDDEN');
    expect(await codeOf(call(manager1.socket, 'vendors:update', { id: vendor2, name: 'Mine' }))).toBe('FORBIDDEN');
    expect(await codeOf(call(manager1.socket, 'vendors:get', { id: vendor2 }))).toBe('FORBIDDEN');
    expect((await call(staff1.socket, 'vendors:get', { id: vendor1 })).id).toBe(vendor1);
  });

  test('a vendor that stops serving a zone stops selling there', async () => {
    const v = await call(admin.socket, 'vendors:get', { id: vendor2 });
    const [kept, ...dropped] = v.zones;
    await call(admin.socket, 'vendors:update', { id: vendor2, zones: [kept!] });
    const left = await h.q<{ n: number }>(
      'SELECT count(*)::int AS n FROM product_zones pz JOIN products p ON p.id = pz.product_id WHERE p.vendor_id = $1 AND pz.zone_id = ANY($2::uuid[])',
      [vendor2, dropped.map((z) => z.zoneId)],
    );
    expect(left[0]!.n).toBe(0);
  });

  test('vendors:list pages by name and filters by status', async () => {
    const all = await call(admin.socket, 'vendors:list', { limit: 100 });
    const names = all.items.map((v) => v.name.toLowerCase());
    expect(names).toEqual([...names].sort());
    const pending = await call(admin.socket, 'vendors:list', { status: 'PENDING' });
    expect(pending.items.every((v) => v.status === 'PENDING')).toBe(true);
    const first = await call(admin.socket, 'vendors:list', { limit: 2 });
    const second = await call(admin.socket, 'vendors:list', { limit: 2, cursor: first.nextCursor! });
    expect([...first.items, ...second.items].map((v) => v.id)).toEqual(all.items.slice(0, 4).map((v) => v.id));
  });
});
