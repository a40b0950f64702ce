import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import type { Order } from '../protocol/index.js';
import { fails } from './support/expect.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { key, makeProduct, makeShops, openVendors, syncAll } from './support/ordering.js';

let h: Harness;
let other: string;
let admin: Session, staff: Session;
let vendorId: string, zoneId: string;

beforeAll(async () => {
  h = await startHarness({ redis: true, env: { RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_S: '100000' } });
  other = (await h.spawnNode()).url;
  [admin, staff] = (await Promise.all(['admin@demo.lilium', 'vendor1@demo.lilium'].map((e) => h.login(e)))) as [Session, Session];
  vendorId = (await call(staff.socket, 'me:get', {})).vendorId!;
  zoneId = (await call(admin.socket, 'zones:list', {})).items[0]!.id;
  await openVendors(h, admin, [vendorId]);
});
afterAll(() => h.close());

test('a dashboard disconnected while 50 orders are placed on another node gets all 50 from feed:sync, in order, once each', async () => {
  const p = await makeProduct(h, staff, { stock: 1000 });
  const dashboard = await h.login('vendor1@demo.lilium');
  const { lastSeq: seen } = await call(dashboard.socket, 'feed:sync', { afterSeq: 0 });
  dashboard.socket.close();

  const shops = await makeShops(h, admin, 5, zoneId);
  const onOther = await Promise.all(shops.map((s) => h.connect({ url: other, token: s.accessToken })));
  const placed: string[] = [];
  await Promise.all(
    onOther.map(async (socket) => {
      for (let i = 0; i < 10; i++) {
        await call(socket, 'cart:add', { productId: p.id, quantity: 1 });
        const { orders } = await call(socket, 'cart:checkout', { idempotencyKey: key() });
        placed.push(orders[0]!.id);
      }
    }),
  );
  expect(placed).toHaveLength(50);

  const back = await h.login('vendor1@demo.lilium');
  const top = (await h.q<{ top: number }>(`SELECT max(seq)::int AS top FROM outbox WHERE event = 'order:new'`))[0]!.top;
  for (;;) {
    const { lastSeq } = await call(back.socket, 'feed:sync', { afterSeq: top - 1, limit: 1 });
    if (lastSeq >= top) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const events = await syncAll(back.socket, seen, 7);
  const news = events.filter((e) => e.event === 'order:new').map((e) => (e.data as Order).id);
  expect([...news].sort()).toEqual([...placed].sort());
  expect(new Set(news).size).toBe(50);
  const seqs = events.map((e) => e.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(new Set(seqs).size).toBe(seqs.length);
  // Commit order: each order's push comes after the one placed before it by the same shop.
  const byShop = new Map<string, number[]>();
  for (const e of events.filter((x) => x.event === 'order:new')) {
    const o = e.data as Order;
    byShop.set(o.shopId, [...(byShop.get(o.shopId) ?? []), o.number]);
  }
  for (const numbers of byShop.values()) expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
  expect(events.every((e) => e.event !== 'order:new' || (e.data as Order).vendorId === vendorId)).toBe(true);
}, 60_000);

test('a checkout that rolls back pushes nothing', async () => {
  const p = await makeProduct(h, staff, { stock: 1 });
  const [a, b] = await makeShops(h, admin, 2, zoneId);
  for (const s of [a!, b!]) await call(s.socket, 'cart:add', { productId: p.id, quantity: 1 });
  await call(a!.socket, 'cart:checkout', { idempotencyKey: key() });
  const before = (await h.q<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE event = 'order:new'`))[0]!.n;
  await fails(call(b!.socket, 'cart:checkout', { idempotencyKey: key() }), 'INSUFFICIENT_STOCK', {
    problems: [{ vendorId, productId: p.id, code: 'OUT_OF_STOCK' }],
  });
  const after = (await h.q<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE event = 'order:new'`))[0]!.n;
  expect(after).toBe(before);
});
