import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import type { Order } from '../protocol/index.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { placeOrder } from './support/delivery.js';
import { until } from './support/until.js';
import { makeProduct, makeShops, openVendors, syncAll } from './support/ordering.js';

/** What a user hears follows what they may reach: zone limits, and changes to it on open sockets. */

let h: Harness;
let other: string;
let admin: Session, superadmin: Session;
let vendors: string[];
let zones: Record<string, string>;
const password = 'reach-test-pass-1';

beforeAll(async () => {
  h = await startHarness({ redis: true, env: { RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_S: '100000' } });
  other = (await h.spawnNode()).url;
  [admin, superadmin] = (await Promise.all(['admin@demo.lilium', 'superadmin@demo.lilium'].map((e) => h.login(e)))) as [Session, Session];
  vendors = (await call(admin.socket, 'vendors:list', { status: 'APPROVED' })).items.slice(0, 2).map((v) => v.id);
  zones = Object.fromEntries((await call(admin.socket, 'zones:list', {})).items.map((z) => [z.code, z.id]));
  await openVendors(h, admin, vendors);
});
afterAll(() => h.close());

const reaches = (s: Session, orderId: string) =>
  call(s.socket, 'orders:get', { id: orderId }).then(
    () => true,
    (err: { code?: string }) => {
      if (err.code !== 'NOT_FOUND') throw err;
      return false;
    },
  );

test('an admin limited to a zone hears only that zone’s orders, live and in feed:sync, and follows a change of zones without reconnecting', async () => {
  const email = `karkh-${randomUUID().slice(0, 6)}@test.lilium`;
  const created = await call(superadmin.socket, 'users:create', { role: 'ADMIN', name: 'Karkh admin', email, password, zoneIds: [zones.KARKH!] });
  const limited = await h.login(email, { password });
  const [inKarkh] = await makeShops(h, admin, 1, zones.KARKH!);
  const [inRusafa] = await makeShops(h, admin, 1, zones.RUSAFA!);
  const product = await makeProduct(h, admin, { vendorId: vendors[0] });
  const { lastSeq: seen } = await call(limited.socket, 'feed:sync', { afterSeq: 0 });

  const limitedHears = h.next(limited.socket, 'order:new');
  const elsewhere = await placeOrder(inRusafa!, product.id);
  const everyoneSees = h.next(admin.socket, 'order:new', (p) => p.data.id === elsewhere.id);
  const inside = await placeOrder(inKarkh!, product.id);
  // Pushes arrive in seq order: had the Rusafa order reached the limited admin, it would have come first.
  expect((await limitedHears).data.id).toBe(inside.id);
  await everyoneSees;
  const synced = (await syncAll(limited.socket, seen)).filter((e) => e.event === 'order:new').map((e) => (e.data as Order).id);
  expect(synced).toContain(inside.id);
  expect(synced).not.toContain(elsewhere.id);

  await call(superadmin.socket, 'users:update', { id: created.id, zoneIds: [zones.RUSAFA!] });
  await until(() => reaches(limited, elsewhere.id));
  expect(await reaches(limited, inside.id)).toBe(false);
  const nowHears = h.next(limited.socket, 'order:new');
  await placeOrder(inKarkh!, product.id);
  const rusafaOrder = await placeOrder(inRusafa!, product.id);
  expect((await nowHears).data.id).toBe(rusafaOrder.id);
  expect(limited.socket.connected).toBe(true);
});

test('staff moved to another vendor stop hearing and reaching the old one at once, on another node, without reconnecting', async () => {
  const email = `mover-${randomUUID().slice(0, 6)}@test.lilium`;
  const staff = await call(admin.socket, 'users:create', { role: 'VENDOR', name: 'Mover', email, password, vendorId: vendors[0] });
  const mover = await h.login(email, { password, url: other });
  const [shop] = await makeShops(h, admin, 1, zones.KARKH!);
  const [oldProduct, newProduct] = await Promise.all(vendors.map((vendorId) => makeProduct(h, admin, { vendorId })));
  const before = await placeOrder(shop!, oldProduct!.id);
  expect(await reaches(mover, before.id)).toBe(true);

  await call(admin.socket, 'users:update', { id: staff.id, vendorId: vendors[1] });
  await until(async () => !(await reaches(mover, before.id)));
  expect(await call(mover.socket, 'order:accept', { orderId: before.id }).catch((e: { code: string }) => e.code)).toBe('NOT_FOUND');

  const hears = h.next(mover.socket, 'order:new');
  await placeOrder(shop!, oldProduct!.id);
  const after = await placeOrder(shop!, newProduct!.id);
  expect((await hears).data.id).toBe(after.id);
  expect(mover.socket.connected).toBe(true);
});
