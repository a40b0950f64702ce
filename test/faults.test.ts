import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import type { Order } from '../protocol/index.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { placeOrder } from './support/delivery.js';
import { RedisServer } from './support/redis-server.js';
import { until } from './support/until.js';
import { key, makeProduct, makeShops, openVendors, syncAll } from './support/ordering.js';

/** A Redis of this test's own, so stopping it disturbs nothing else on the machine. */
const redis = new RedisServer();

const ready = async (url: string) => (await fetch(`${url}/ready`)).json() as Promise<{ status: string; redis: string }>;

let h: Harness;
let nodeB: string;
let admin: Session;
let vendorId: string;

beforeAll(async () => {
  await redis.start();
  h = await startHarness({ redis: true, env: { REDIS_URL: redis.url, RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_S: '100000' } });
  nodeB = (await h.spawnNode()).url;
  admin = await h.login('admin@demo.lilium');
  vendorId = (await call(admin.socket, 'vendors:list', { status: 'APPROVED' })).items[0]!.id;
  await openVendors(h, admin, [vendorId]);
}, 60_000);
afterAll(async () => {
  await h.close();
  await redis.stop();
});

test('Redis stops and returns: nodes keep serving, /ready says degraded, cross-node pushes resume, feed:sync recovers what was missed', async () => {
  const [staffEmail] = (await h.q<{ email: string }>(`SELECT email FROM users WHERE vendor_id = $1 AND role = 'VENDOR' LIMIT 1`, [vendorId])).map(
    (u) => u.email,
  );
  const dashboard = await h.login(staffEmail!, { url: nodeB });
  const shop = await h.login('shop1@demo.lilium');
  const product = await makeProduct(h, dashboard);
  const { lastSeq: seen } = await call(dashboard.socket, 'feed:sync', { afterSeq: 0 });

  const first = h.next(dashboard.socket, 'order:new');
  const before = await placeOrder(shop, product.id);
  expect((await first).data.id).toBe(before.id);

  await redis.stop();
  await until(async () => (await ready(h.url)).status === 'degraded');
  expect((await fetch(`${h.url}/health`)).status).toBe(200);
  expect((await fetch(`${h.url}/ready`)).status).toBe(503);
  // Each node still serves its own clients, database included.
  const during = await placeOrder(shop, product.id);
  expect((await call(dashboard.socket, 'orders:get', { id: during.id })).status).toBe('PENDING');
  // The push for it could not cross to node B: counted, not an unhandled rejection that ends the process.
  const failures = async () => Number(/^lilium_redis_publish_failures_total (\d+)$/m.exec(await (await fetch(`${h.url}/metrics`)).text())?.[1] ?? 0);
  await until(async () => (await failures()) > 0);

  await redis.start();
  await until(async () => (await ready(h.url)).status === 'ready' && (await ready(nodeB)).status === 'ready');
  // Cross-node pushes flow again (the subscriber may take a moment to resubscribe: retry with fresh orders).
  let resumed = false;
  for (let i = 0; i < 50 && !resumed; i++) {
    const next = h
      .next(dashboard.socket, 'order:new', () => true, 300)
      .then(
        () => true,
        () => false,
      );
    await placeOrder(shop, product.id);
    resumed = await next;
  }
  expect(resumed).toBe(true);

  const missed = (await syncAll(dashboard.socket, seen)).filter((e) => e.event === 'order:new').map((e) => (e.data as Order).id);
  expect(missed).toContain(before.id);
  expect(missed).toContain(during.id);
}, 60_000);

test('a node killed with SIGKILL under load loses no acknowledged checkout; its clients reconnect elsewhere and catch up', async () => {
  const victim = await h.spawnNode();
  const owners = await makeShops(h, admin, 4, (await call(admin.socket, 'zones:list', {})).items[0]!.id);
  const staff = await h.login(
    (await h.q<{ email: string }>(`SELECT email FROM users WHERE vendor_id = $1 AND role = 'VENDOR' LIMIT 1`, [vendorId]))[0]!.email,
    {
      url: victim.url,
    },
  );
  const product = await makeProduct(h, staff, { stock: 100_000 });
  const { lastSeq: seen } = await call(staff.socket, 'feed:sync', { afterSeq: 0 });
  const sockets = await Promise.all(owners.map((o) => h.connect({ url: victim.url, token: o.accessToken })));

  const acknowledged: string[] = [];
  let killed = false;
  const loops = sockets.map(async (socket) => {
    while (!killed) {
      try {
        await call(socket, 'cart:add', { productId: product.id, quantity: 1 });
        const { orders } = await call(socket, 'cart:checkout', { idempotencyKey: key() });
        acknowledged.push(orders[0]!.id);
      } catch {
        return; // the node is gone: no answer, so nothing acknowledged
      }
    }
  });
  await until(async () => acknowledged.length >= 20);
  victim.process.child.kill('SIGKILL');
  killed = true;
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 3000))]);
  for (const s of sockets) s.close();

  const stored = new Set((await h.q<{ id: string }>('SELECT id FROM orders WHERE id = ANY($1::uuid[])', [acknowledged])).map((r) => r.id));
  expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);

  // The dashboard reconnects to a surviving node with its token and catches up from its last seq.
  const back = await h.connect({ url: nodeB, token: staff.accessToken });
  const missed = await syncAll(back, seen);
  const got = new Set(missed.filter((e) => e.event === 'order:new').map((e) => (e.data as Order).id));
  await until(async () => {
    for (const e of await syncAll(back, seen)) if (e.event === 'order:new') got.add((e.data as Order).id);
    return acknowledged.every((id) => got.has(id));
  });
}, 60_000);
