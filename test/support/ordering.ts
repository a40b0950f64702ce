import { randomUUID } from 'node:crypto';
import { call, type LiliumSocket } from '../../protocol/client.js';
import type { Envelope, InputOf } from '../../protocol/index.js';
import type { Product } from '../../protocol/catalog.js';
import { createProduct } from '../../load/fixtures.js';
import type { Harness, Session } from './harness.js';

/** Demo vendors made to serve every zone with no minimum order, so tests choose their own terms. */
export async function openVendors(h: Harness, admin: Session, vendorIds: string[], terms = { deliveryFee: 500, minOrderValue: 0 }): Promise<void> {
  const zones = (await call(admin.socket, 'zones:list', {})).items;
  for (const id of vendorIds) await call(admin.socket, 'vendors:update', { id, zones: zones.map((z) => ({ zoneId: z.id, ...terms })) });
}

/** A fresh product of the staff member's vendor, in the demo 'sugar' category and sold in every zone unless `overrides` say otherwise. */
export async function makeProduct(h: Harness, staff: Session, overrides: Partial<InputOf<'products:create'>> = {}): Promise<Product> {
  const [cat] = await h.q<{ id: string }>(`SELECT id FROM categories WHERE slug = 'sugar'`);
  return createProduct(staff.socket, { sku: `O-${randomUUID().slice(0, 8)}`, categoryId: cat!.id, ...overrides });
}

/** Shop owners created for a test, each with its own shop in the zone, signed in. */
export async function makeShops(h: Harness, admin: Session, n: number, zoneId: string): Promise<Session[]> {
  const tag = randomUUID().slice(0, 6);
  const password = 'shop-owner-pass-1';
  const emails = [];
  for (let i = 0; i < n; i++) {
    const email = `shop-${tag}-${i}@test.lilium`;
    await call(admin.socket, 'users:create', { role: 'SHOP_OWNER', name: `Shop ${i}`, email, password, shop: { name: `Shop ${tag} ${i}`, zoneId } });
    emails.push(email);
  }
  return Promise.all(emails.map((e) => h.login(e, { password })));
}

export const key = () => randomUUID();

/** Every push after `afterSeq` for the socket's rooms, fetched with feed:sync page by page. */
export async function syncAll(socket: LiliumSocket, afterSeq: number, limit = 100): Promise<Envelope<unknown>[]> {
  const events: Envelope<unknown>[] = [];
  let after = afterSeq;
  for (;;) {
    const page = await call(socket, 'feed:sync', { afterSeq: after, limit });
    events.push(...page.events);
    after = page.lastSeq;
    if (!page.hasMore) return events;
  }
}
