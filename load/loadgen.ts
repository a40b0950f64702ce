/**
 * The real flow under load, spread over a cluster: shop owners browse, search, fill carts and check out; vendor
 * dashboards accept, prepare and assign; drivers set off, deliver with the shop's code and collect the cash.
 *   npm run load -- [--nodes 3] [--duration 60] [--rate 10] [--shops 40] [--search 0.33] [--items 3]
 * --rate is shop visits per second across all shops, each ending in a checkout (one order per vendor in the cart). It starts its own nodes (one Redis, one database
 * `lilium_load`, built afresh), runs for --duration seconds (at most 600), then lets deliveries finish, checks
 * that every order reached its vendor exactly once and that stock and the ledger balance, and writes
 * load/results/load.json and load/results/load.html. Loopback only; stops by itself.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { io } from 'socket.io-client';
import { call, type LiliumSocket } from '../protocol/client.js';
import type { EventName, InputOf, ResultOf } from '../protocol/index.js';
import type { Order } from '../protocol/ordering.js';
import { htmlReport } from './report.js';
import { BENCH_REDIS_URL, DEMO_PASSWORD, freshDatabase, machine, openVendors, startNode, stopAll, writeResult } from './setup.js';
import { summary } from './stats.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    duration: { type: 'string', default: '60' },
    rate: { type: 'string', default: '10' },
    shops: { type: 'string', default: '40' },
    search: { type: 'string', default: '0.33' },
    items: { type: 'string', default: '3' },
  },
});
const NODES = Math.min(8, Math.max(1, Number(values.nodes)));
const DURATION_S = Math.min(600, Math.max(1, Number(values.duration)));
const RATE = Math.min(500, Math.max(0.1, Number(values.rate)));
const SHOPS = Math.min(1000, Math.max(1, Number(values.shops)));
/** The mix: the share of visits that search before choosing, and the most lines a cart gets. */
const SEARCH_SHARE = Math.min(1, Math.max(0, Number(values.search)));
const MAX_ITEMS = Math.min(20, Math.max(1, Number(values.items)));

// ---- the cluster ----------------------------------------------------------------------------------------
const database = await freshDatabase('lilium_load');
const db = new pg.Pool({ connectionString: database.url, max: 4 });
db.on('error', (err) => process.stderr.write(`load: database connection lost: ${err.message}\n`));
const prefix = `lilium-load-${randomUUID().slice(0, 8)}`;
const node = async () => (await startNode(database.url, { REDIS_URL: BENCH_REDIS_URL, REDIS_PREFIX: prefix })).url;
const urls = [await node()]; // the first migrates and seeds
for (let i = 1; i < NODES; i++) urls.push(await node());

// ---- measuring ------------------------------------------------------------------------------------------
const latencies = new Map<string, number[]>();
const errors = new Map<string, number>();
const e2eCheckout: number[] = [];
const e2eDelivery: number[] = [];
let measuring = false;

async function rpc<E extends EventName>(socket: LiliumSocket, event: E, input: InputOf<E>): Promise<ResultOf<E>> {
  const t = performance.now();
  try {
    const r = await call(socket, event, input);
    if (measuring) latencies.set(event, [...(latencies.get(event) ?? []), performance.now() - t]);
    return r;
  } catch (err) {
    const key = `${event} ${(err as { code?: string }).code ?? 'ERROR'}`;
    errors.set(key, (errors.get(key) ?? 0) + 1);
    throw err;
  }
}

let next = 0;
const nodeUrl = () => urls[next++ % urls.length]!;
async function login(email: string, password = DEMO_PASSWORD): Promise<{ socket: LiliumSocket; userId: string }> {
  const socket: LiliumSocket = io(nodeUrl(), { transports: ['websocket'] });
  const app = email.startsWith('shop') ? 'mobile' : email.startsWith('driver') ? 'driver' : 'dashboard';
  const r = await call(socket, 'auth:login', { app, login: email, password });
  return { socket, userId: r.user.id };
}

// ---- the actors -----------------------------------------------------------------------------------------
const boss = await login('admin@demo.lilium');
const zones = (await call(boss.socket, 'zones:list', {})).items;
const approved = (await call(boss.socket, 'vendors:list', { status: 'APPROVED' })).items;
await openVendors(
  boss.socket,
  approved.map((v) => v.id),
  1000,
);
// Stock high enough that the run never sells out, recorded to check the balance afterwards.
await db.query(`UPDATE products SET stock = 1000000`);
const startStock = new Map((await db.query<{ id: string; stock: number }>('SELECT id, stock FROM products')).rows.map((r) => [r.id, Number(r.stock)]));

const codes = new Map<string, string>(); // what each shop owner would read out to the driver
const sentCheckout = new Map<string, number>();
const sentStatus = new Map<string, number>();
const seenNew = new Map<string, number>();
const acknowledged = new Set<string>();
let checkouts = 0;
const delivered = new Set<string>();
const inFlight = new Set<Promise<unknown>>();
const track = (p: Promise<unknown>) => {
  const q = p.catch(() => undefined).finally(() => inFlight.delete(q));
  inFlight.add(q);
};

const drivers = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => login(`driver${i}@demo.lilium`)));
for (const d of drivers) {
  await call(d.socket, 'driver:availability', { available: true });
  d.socket.on('delivery:assigned', (e) =>
    track(
      (async () => {
        const order = e.data;
        sentStatus.set(`${order.id} ON_THE_WAY`, performance.now());
        await rpc(d.socket, 'delivery:status', { orderId: order.id, status: 'ON_THE_WAY' });
        const code = await waitFor(() => (codes.get(order.id) === 'pending' ? undefined : codes.get(order.id)));
        sentStatus.set(`${order.id} DELIVERED`, performance.now());
        const done = await rpc(d.socket, 'delivery:status', { orderId: order.id, status: 'DELIVERED', code });
        await rpc(d.socket, 'cash:collect', { orderId: order.id, amount: done.total, idempotencyKey: randomUUID() });
        delivered.add(order.id);
      })(),
    ),
  );
}

const dashboards = await Promise.all(approved.map(async (v) => ({ vendorId: v.id, ...(await login(await staffEmail(v.id))) })));
async function staffEmail(vendorId: string): Promise<string> {
  return (
    await db.query<{ email: string }>(`SELECT email FROM users WHERE vendor_id = $1 AND role IN ('VENDOR', 'COMPANY_MANAGER') ORDER BY role DESC LIMIT 1`, [
      vendorId,
    ])
  ).rows[0]!.email;
}
for (const d of dashboards) {
  d.socket.on('order:new', (e) => {
    const order: Order = e.data;
    seenNew.set(order.id, (seenNew.get(order.id) ?? 0) + 1);
    const t0 = sentCheckout.get(order.note ?? '');
    if (t0 !== undefined && measuring) e2eCheckout.push(performance.now() - t0);
    if (seenNew.get(order.id) !== 1) return;
    track(
      (async () => {
        await rpc(d.socket, 'order:accept', { orderId: order.id });
        await rpc(d.socket, 'order:prepare', { orderId: order.id });
        const offered = await rpc(d.socket, 'drivers:available', { orderId: order.id });
        const driver = offered.items[0];
        if (driver) await rpc(d.socket, 'delivery:assign', { orderId: order.id, driverId: driver.id });
      })(),
    );
  });
}

const shops: Array<{ socket: LiliumSocket; userId: string }> = [];
for (let i = 0; i < SHOPS; i++) {
  const email = `shop-load-${i}@load.lilium`;
  await call(boss.socket, 'users:create', {
    role: 'SHOP_OWNER',
    name: `Load shop ${i}`,
    email,
    password: 'load-shop-password',
    shop: { name: `Load shop ${i}`, zoneId: zones[i % zones.length]!.id },
  });
  const shop = await login(email, 'load-shop-password');
  shop.socket.on('order:updated', (e) => {
    const order: Order = e.data;
    const t0 = sentStatus.get(`${order.id} ${order.status}`);
    if (t0 !== undefined && measuring) e2eDelivery.push(performance.now() - t0);
    // The owner opens the order once a driver has it, and reads the code out when the driver arrives.
    if (order.driverId && !codes.has(order.id) && ['ACCEPTED', 'PREPARING', 'ON_THE_WAY'].includes(order.status)) {
      codes.set(order.id, 'pending');
      track(rpc(shop.socket, 'delivery:code', { orderId: order.id }).then((c) => codes.set(order.id, c.code)));
    }
  });
  shops.push(shop);
}

async function waitFor<T>(get: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const WORDS = ['rice', 'oil', 'milk', 'مياه', 'ارز', 'sugar', 'tea', 'shampo'];
async function shopVisit(shop: { socket: LiliumSocket }, i: number): Promise<void> {
  const searching = (i * 0.618_034) % 1 < SEARCH_SHARE; // spread evenly over the run
  const list = await rpc(shop.socket, 'products:list', searching ? { q: WORDS[i % WORDS.length]!, limit: 20 } : { limit: 20, sort: 'popular' });
  const picks = list.items.filter((p) => p.stock > 0).slice(0, 1 + (i % MAX_ITEMS));
  if (picks.length === 0) return;
  await rpc(shop.socket, 'cart:clear', {});
  for (const p of picks) await rpc(shop.socket, 'cart:add', { productId: p.id, quantity: Math.max(1, p.minOrderQty) });
  await rpc(shop.socket, 'cart:get', {});
  const note = randomUUID();
  sentCheckout.set(note, performance.now());
  // As the app does: an answer that never came is asked for again with the same key, which never orders twice.
  const input = { idempotencyKey: randomUUID(), note };
  let answer: ResultOf<'cart:checkout'> | null = null;
  for (let attempt = 0; !answer; attempt++) {
    try {
      answer = await rpc(shop.socket, 'cart:checkout', input);
    } catch (err) {
      if ((err as { code?: string }).code !== 'UNAVAILABLE' || attempt >= 5) throw err;
    }
  }
  const { orders } = answer;
  checkouts++;
  for (const o of orders) acknowledged.add(o.id);
}

// ---- the run --------------------------------------------------------------------------------------------
const { rows: seqRows } = await db.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM outbox');
const startSeq = Number(seqRows[0]!.seq ?? 0);
measuring = true;
const started = performance.now();
let visits = 0;
const progress = setInterval(() => {
  const s = Math.round((performance.now() - started) / 1000);
  process.stderr.write(
    `\r${s}/${DURATION_S} s  checkouts ${checkouts}  orders ${acknowledged.size}  delivered ${delivered.size}  in flight ${inFlight.size}  errors ${[...errors.values()].reduce((a, b) => a + b, 0)}   `,
  );
}, 1000);
// A shop owner does one thing at a time: a visit goes to a shop that is not already mid-visit, or is skipped.
const busy = new Set<number>();
let skipped = 0;
while (performance.now() - started < DURATION_S * 1000) {
  const i = visits++;
  const k = [...Array(shops.length).keys()].map((n) => (i + n) % shops.length).find((n) => !busy.has(n));
  if (k === undefined) skipped++;
  else {
    busy.add(k);
    track(shopVisit(shops[k]!, i).finally(() => busy.delete(k)));
  }
  const due = started + (visits * 1000) / RATE;
  await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
}
const runSeconds = (performance.now() - started) / 1000;
// Let what is under way finish: every delivery, bounded.
const drainEnd = Date.now() + 60_000;
while (inFlight.size > 0 && Date.now() < drainEnd) await new Promise((r) => setTimeout(r, 100));
measuring = false;
clearInterval(progress);
process.stderr.write('\n');

// ---- checks ---------------------------------------------------------------------------------------------
const missing = [...acknowledged].filter((id) => !seenNew.has(id));
const duplicated = [...seenNew].filter(([, n]) => n > 1).map(([id]) => id);
// The feed is the source of truth: each vendor's feed:sync has every acknowledged order once.
const fromFeed = new Map<string, number>();
for (const d of dashboards) {
  let after = startSeq;
  for (;;) {
    const page = await call(d.socket, 'feed:sync', { afterSeq: after, limit: 1000 });
    for (const e of page.events) if (e.event === 'order:new') fromFeed.set((e.data as Order).id, (fromFeed.get((e.data as Order).id) ?? 0) + 1);
    after = page.lastSeq;
    if (!page.hasMore) break;
  }
}
const feedMissing = [...acknowledged].filter((id) => fromFeed.get(id) !== 1);
const stockRows = (
  await db.query<{ id: string; stock: string; held: string }>(
    `SELECT p.id, p.stock, coalesce((SELECT sum(i.quantity) FROM order_items i JOIN orders o ON o.id = i.order_id
                                       WHERE i.product_id = p.id AND o.status NOT IN ('REJECTED', 'CANCELLED')), 0) AS held FROM products p`,
  )
).rows;
const stockBroken = stockRows.filter((r) => Number(r.stock) + Number(r.held) !== startStock.get(r.id)).length;
const ledger = (
  await db.query<{ total: string; unbalanced: string }>(
    `SELECT (SELECT coalesce(sum(amount), 0) FROM ledger_entries) AS total,
            (SELECT count(*) FROM (SELECT tx_id FROM ledger_entries GROUP BY tx_id HAVING sum(amount) <> 0) u) AS unbalanced`,
  )
).rows[0]!;

const events = Object.fromEntries(
  [...latencies].sort(([a], [b]) => a.localeCompare(b)).map(([name, l]) => [name, { ...summary(l), perSecond: Math.round((l.length / runSeconds) * 10) / 10 }]),
);
const result = {
  bench: 'load',
  date: new Date().toISOString(),
  machine: machine(),
  config: {
    nodes: NODES,
    durationS: DURATION_S,
    targetCheckoutsPerS: RATE,
    shops: SHOPS,
    searchShare: SEARCH_SHARE,
    maxItems: MAX_ITEMS,
    vendors: dashboards.length,
    drivers: drivers.length,
  },
  totals: {
    visits,
    skippedAllShopsBusy: skipped,
    checkouts,
    checkoutsPerS: Math.round((checkouts / runSeconds) * 10) / 10,
    orders: acknowledged.size,
    delivered: delivered.size,
  },
  events,
  errors: Object.fromEntries(errors),
  endToEnd: { checkoutToOrderNewMs: summary(e2eCheckout), deliveryStatusToShopMs: summary(e2eDelivery) },
  checks: {
    everyOrderReachedItsVendor: missing.length === 0,
    noOrderPushedTwice: duplicated.length === 0,
    feedHasEveryOrderOnce: feedMissing.length === 0,
    stockBalances: stockBroken === 0,
    ledgerSumsToZero: Number(ledger.total) === 0 && Number(ledger.unbalanced) === 0,
    missingLive: missing.length,
    duplicatedLive: duplicated.length,
  },
};
writeResult('load.json', JSON.stringify(result, null, 2));
writeResult('load.html', htmlReport(result));
console.log(JSON.stringify(result, null, 2));

for (const s of [boss, ...drivers, ...dashboards, ...shops]) s.socket.close();
await stopAll();
await db.end();
await database.drop();
const passed = ['everyOrderReachedItsVendor', 'noOrderPushedTwice', 'feedHasEveryOrderOnce', 'stockBalances', 'ledgerSumsToZero'].every(
  (k) => result.checks[k as keyof typeof result.checks] === true,
);
process.exit(passed ? 0 : 1);
