/**
 * The real flow under load, spread over a cluster: shop owners browse, search, fill carts and check out; vendor
 * dashboards accept, prepare and assign; drivers set off, deliver with the shop's code and collect the cash.
 *   npm run load -- [--nodes 3] [--duration 60] [--rate 10] [--shops 40] [--search 0.33] [--items 3]
 * --rate is shop visits per second across all shops, each ending in a checkout (one order per vendor in the cart). It starts its own nodes (one Redis, one database
 * `lilium_load`, built afresh), runs for --duration seconds (at most 600), then lets deliveries finish, checks
 * that every order reached its vendor exactly once and that stock and the ledger balance, and writes
 * load/results/load.json and load/results/load.html. While it runs it reads every node's /metrics, for the
 * report's server-side charts. Loopback only; stops by itself.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { call, type LiliumSocket } from '../protocol/client.js';
import type { EventName, InputOf, ResultOf } from '../protocol/index.js';
import type { Order } from '../protocol/ordering.js';
import { htmlReport, type LoadResult } from './report.js';
import { MetricsSampler, missingSeries, serverCharts } from './server-metrics.js';
import { BENCH_REDIS_URL, freshDatabase, machine, openVendors, signIn, startNode, stopAll, writeResult } from './setup.js';
import { countCpu, type CpuSpent } from './cpu.js';
import { summary } from './stats.js';
import { Timeline, windowFor } from './timeline.js';

interface Options {
  nodes: number;
  durationS: number;
  /** Shop visits per second across all shops. */
  rate: number;
  shops: number;
  /** The mix: the share of visits that search before choosing, and the most lines a cart gets. */
  searchShare: number;
  maxItems: number;
}

function parseOptions(): Options {
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
  const clamp = (v: string, min: number, max: number) => Math.min(max, Math.max(min, Number(v)));
  return {
    nodes: clamp(values.nodes, 1, 8),
    durationS: clamp(values.duration, 1, 600),
    rate: clamp(values.rate, 0.1, 500),
    shops: clamp(values.shops, 1, 1000),
    searchShare: clamp(values.search, 0, 1),
    maxItems: clamp(values.items, 1, 20),
  };
}

// ---- measuring ------------------------------------------------------------------------------------------

/**
 * What the run measures: each call's latency by event and the two end-to-end paths (while on), failures by event
 * and code, and every call, checkout and failure by window of run time.
 */
class Meter {
  on = false;
  timeline: Timeline | null = null;
  readonly latencies = new Map<string, number[]>();
  readonly errors = new Map<string, number>();
  readonly checkoutToOrderNew: number[] = [];
  readonly statusToShop: number[] = [];

  /** Appends in place: a list grows with the run, and copying it on every sample made a run quadratic in its length. */
  sample(samples: number[], ms: number): void {
    if (this.on) samples.push(ms);
  }

  /** A typed call whose latency, or failure, is recorded. */
  readonly rpc = async <E extends EventName>(socket: LiliumSocket, event: E, input: InputOf<E>): Promise<ResultOf<E>> => {
    const t = performance.now();
    try {
      const r = await call(socket, event, input);
      const ms = performance.now() - t;
      if (this.on) this.samplesOf(event).push(ms);
      this.timeline?.record('calls', ms);
      if (event === 'cart:checkout') this.timeline?.record(event, ms);
      return r;
    } catch (err) {
      const key = `${event} ${(err as { code?: string }).code ?? 'ERROR'}`;
      this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
      this.timeline?.record('errors', performance.now() - t);
      throw err;
    }
  };

  private samplesOf(event: string): number[] {
    let samples = this.latencies.get(event);
    if (!samples) this.latencies.set(event, (samples = []));
    return samples;
  }

  errorCount(): number {
    return [...this.errors.values()].reduce((a, b) => a + b, 0);
  }
}

/** What the actors share while the run goes on: when requests were sent, what came back, and the work under way. */
class Flow {
  /** What each shop owner would read out to the driver, by order ('pending' while it is being fetched). */
  readonly codes = new Map<string, string>();
  /** When each checkout was sent, by its note; when each status change was sent, by `${orderId} ${status}`. */
  readonly sentCheckout = new Map<string, number>();
  readonly sentStatus = new Map<string, number>();
  /** How many times each order's order:new reached a dashboard. */
  readonly seenNew = new Map<string, number>();
  /** The orders that checkouts answered with, and those delivered and paid for. */
  readonly acknowledged = new Set<string>();
  readonly delivered = new Set<string>();
  checkouts = 0;
  readonly inFlight = new Set<Promise<unknown>>();

  constructor(readonly meter: Meter) {}

  /** Work started by a push or a visit, awaited before the checks; a failed call in it is counted by the meter. */
  track(p: Promise<unknown>): void {
    const q = p.catch(() => undefined).finally(() => this.inFlight.delete(q));
    this.inFlight.add(q);
  }
}

// ---- the cluster ----------------------------------------------------------------------------------------

interface Session {
  socket: LiliumSocket;
  userId: string;
}

interface Cluster {
  db: pg.Pool;
  urls: string[];
  /** The nodes' processes and the database's name, to count the CPU each side spends. */
  pids: number[];
  database: string;
  /** Signs in on the nodes in turn. */
  signIn(email: string, password?: string): Promise<Session>;
  close(): Promise<void>;
}

async function startCluster(nodes: number): Promise<Cluster> {
  const database = await freshDatabase('lilium_load');
  const db = new pg.Pool({ connectionString: database.url, max: 4 });
  db.on('error', (err) => process.stderr.write(`load: database connection lost: ${err.message}\n`));
  const prefix = `lilium-load-${randomUUID().slice(0, 8)}`;
  const pids: number[] = [];
  const node = async () => {
    const { child, url } = await startNode(database.url, { REDIS_URL: BENCH_REDIS_URL, REDIS_PREFIX: prefix });
    pids.push(child.pid!);
    return url;
  };
  const urls = [await node()]; // the first migrates and seeds
  for (let i = 1; i < nodes; i++) urls.push(await node());
  let next = 0;
  return {
    db,
    urls,
    pids,
    database: new URL(database.url).pathname.slice(1),
    signIn: (email, password) => signIn(urls[next++ % urls.length]!, email, password),
    async close() {
      await stopAll();
      await db.end();
      await database.drop();
    },
  };
}

// ---- the actors -----------------------------------------------------------------------------------------

/** Six drivers, available, each delivering what it is assigned. */
async function startDrivers(cluster: Cluster, flow: Flow): Promise<Session[]> {
  const drivers = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => cluster.signIn(`driver${i}@demo.lilium`)));
  for (const d of drivers) {
    await call(d.socket, 'driver:availability', { available: true });
    d.socket.on('delivery:assigned', (e) => flow.track(deliver(flow, d.socket, e.data)));
  }
  return drivers;
}

/** Sets off, delivers with the code the shop owner reads out, and collects the cash. */
async function deliver(flow: Flow, driver: LiliumSocket, order: Order): Promise<void> {
  const { rpc } = flow.meter;
  flow.sentStatus.set(`${order.id} ON_THE_WAY`, performance.now());
  await rpc(driver, 'delivery:status', { orderId: order.id, status: 'ON_THE_WAY' });
  const code = await waitFor(() => (flow.codes.get(order.id) === 'pending' ? undefined : flow.codes.get(order.id)));
  flow.sentStatus.set(`${order.id} DELIVERED`, performance.now());
  const done = await rpc(driver, 'delivery:status', { orderId: order.id, status: 'DELIVERED', code });
  await rpc(driver, 'cash:collect', { orderId: order.id, amount: done.total, idempotencyKey: randomUUID() });
  flow.delivered.add(order.id);
}

/** A dashboard for each vendor, signed in as its staff, that takes each new order through to a driver. */
async function startDashboards(cluster: Cluster, flow: Flow, vendorIds: string[]): Promise<Array<Session & { vendorId: string }>> {
  const dashboards = await Promise.all(vendorIds.map(async (vendorId) => ({ vendorId, ...(await cluster.signIn(await staffEmail(cluster.db, vendorId))) })));
  for (const d of dashboards) d.socket.on('order:new', (e) => onOrderNew(flow, d.socket, e.data));
  return dashboards;
}

async function staffEmail(db: pg.Pool, vendorId: string): Promise<string> {
  return (
    await db.query<{ email: string }>(`SELECT email FROM users WHERE vendor_id = $1 AND role IN ('VENDOR', 'COMPANY_MANAGER') ORDER BY role DESC LIMIT 1`, [
      vendorId,
    ])
  ).rows[0]!.email;
}

function onOrderNew(flow: Flow, dashboard: LiliumSocket, order: Order): void {
  flow.seenNew.set(order.id, (flow.seenNew.get(order.id) ?? 0) + 1);
  const t0 = flow.sentCheckout.get(order.note ?? '');
  if (t0 !== undefined) flow.meter.sample(flow.meter.checkoutToOrderNew, performance.now() - t0);
  if (flow.seenNew.get(order.id) !== 1) return;
  flow.track(dispatch(flow.meter, dashboard, order.id));
}

/** Accepts, prepares and assigns the first driver offered. */
async function dispatch({ rpc }: Meter, dashboard: LiliumSocket, orderId: string): Promise<void> {
  await rpc(dashboard, 'order:accept', { orderId });
  await rpc(dashboard, 'order:prepare', { orderId });
  const offered = await rpc(dashboard, 'drivers:available', { orderId });
  const driver = offered.items[0];
  if (driver) await rpc(dashboard, 'delivery:assign', { orderId, driverId: driver.id });
}

/** `count` new shop owners, one shop each spread over the zones, signed in and following their orders. */
async function createShops(cluster: Cluster, admin: LiliumSocket, zoneIds: string[], count: number, flow: Flow): Promise<Session[]> {
  const shops: Session[] = [];
  for (let i = 0; i < count; i++) {
    const email = `shop-load-${i}@load.lilium`;
    await call(admin, 'users:create', {
      role: 'SHOP_OWNER',
      name: `Load shop ${i}`,
      email,
      password: 'load-shop-password',
      shop: { name: `Load shop ${i}`, zoneId: zoneIds[i % zoneIds.length]! },
    });
    const shop = await cluster.signIn(email, 'load-shop-password');
    shop.socket.on('order:updated', (e) => onOrderUpdated(flow, shop.socket, e.data));
    shops.push(shop);
  }
  return shops;
}

function onOrderUpdated(flow: Flow, shop: LiliumSocket, order: Order): void {
  const t0 = flow.sentStatus.get(`${order.id} ${order.status}`);
  if (t0 !== undefined) flow.meter.sample(flow.meter.statusToShop, performance.now() - t0);
  // The owner opens the order once a driver has it, and reads the code out when the driver arrives.
  if (order.driverId && !flow.codes.has(order.id) && ['ACCEPTED', 'PREPARING', 'ON_THE_WAY'].includes(order.status)) {
    flow.codes.set(order.id, 'pending');
    flow.track(flow.meter.rpc(shop, 'delivery:code', { orderId: order.id }).then((c) => flow.codes.set(order.id, c.code)));
  }
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

/** Visit `i`: browse or search, fill the cart with a few of what is in stock, and check out. */
async function shopVisit(flow: Flow, options: Options, shop: LiliumSocket, i: number): Promise<void> {
  const { rpc } = flow.meter;
  const searching = (i * 0.618_034) % 1 < options.searchShare; // spread evenly over the run
  const list = await rpc(shop, 'products:list', searching ? { q: WORDS[i % WORDS.length]!, limit: 20 } : { limit: 20, sort: 'popular' });
  const picks = list.items.filter((p) => p.stock > 0).slice(0, 1 + (i % options.maxItems));
  if (picks.length === 0) return;
  await rpc(shop, 'cart:clear', {});
  for (const p of picks) await rpc(shop, 'cart:add', { productId: p.id, quantity: Math.max(1, p.minOrderQty) });
  await rpc(shop, 'cart:get', {});
  const note = randomUUID();
  flow.sentCheckout.set(note, performance.now());
  // As the app does: an answer that never came is asked for again with the same key, which never orders twice.
  const input = { idempotencyKey: randomUUID(), note };
  let answer: ResultOf<'cart:checkout'> | null = null;
  for (let attempt = 0; !answer; attempt++) {
    try {
      answer = await rpc(shop, 'cart:checkout', input);
    } catch (err) {
      if ((err as { code?: string }).code !== 'UNAVAILABLE' || attempt >= 5) throw err;
    }
  }
  flow.checkouts++;
  for (const o of answer.orders) flow.acknowledged.add(o.id);
}

// ---- the run --------------------------------------------------------------------------------------------

/** The first shop from `i` on, round the list, that is not mid-visit. */
function freeShop(count: number, busy: Set<number>, i: number): number | undefined {
  for (let n = 0; n < count; n++) if (!busy.has((i + n) % count)) return (i + n) % count;
  return undefined;
}

interface Drive {
  visits: number;
  skipped: number;
  runSeconds: number;
  /** CPU seconds of the nodes, the database's backends and the generator from the first visit to the end of the drain. */
  cpu: CpuSpent;
  timeline: LoadResult['timeline'];
  server: LoadResult['server'];
}

/**
 * Starts visits at the rate for the duration, measuring, then lets what is under way finish (at most a minute);
 * reads the nodes' /metrics throughout.
 */
async function drive(flow: Flow, options: Options, shops: Session[], cluster: Cluster): Promise<Drive> {
  const nodeUrls = cluster.urls;
  const spent = countCpu(cluster.pids, cluster.database);
  const started = performance.now();
  const windowS = windowFor(options.durationS);
  const timeline = new Timeline(windowS, started);
  const sampler = new MetricsSampler(nodeUrls, windowS, started);
  flow.meter.on = true;
  flow.meter.timeline = timeline;
  sampler.start();
  let visits = 0;
  const progress = setInterval(() => {
    const s = Math.round((performance.now() - started) / 1000);
    process.stderr.write(
      `\r${s}/${options.durationS} s  checkouts ${flow.checkouts}  orders ${flow.acknowledged.size}  delivered ${flow.delivered.size}  in flight ${flow.inFlight.size}  errors ${flow.meter.errorCount()}   `,
    );
  }, 1000);
  // A shop owner does one thing at a time: a visit goes to a shop that is not already mid-visit, or is skipped.
  const busy = new Set<number>();
  let skipped = 0;
  while (performance.now() - started < options.durationS * 1000) {
    const i = visits++;
    const k = freeShop(shops.length, busy, i);
    if (k === undefined) skipped++;
    else {
      busy.add(k);
      flow.track(shopVisit(flow, options, shops[k]!.socket, i).finally(() => busy.delete(k)));
    }
    const due = started + (visits * 1000) / options.rate;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
  }
  const runSeconds = (performance.now() - started) / 1000;
  const drainEnd = Date.now() + 60_000;
  while (flow.inFlight.size > 0 && Date.now() < drainEnd) await new Promise((r) => setTimeout(r, 100));
  const ended = performance.now();
  const cpu = spent();
  flow.meter.on = false;
  flow.meter.timeline = null;
  clearInterval(progress);
  await sampler.stop();
  process.stderr.write('\n');
  const charts = serverCharts(sampler.scrapes);
  return {
    visits,
    skipped,
    runSeconds,
    cpu,
    timeline: {
      windowS,
      loadEndS: Math.round(runSeconds * 100) / 100,
      // Rounded up, so the last window (cut at the true end) still ends within it.
      endS: Math.ceil(((ended - started) / 1000) * 100) / 100,
      windows: timeline.windowsUntil(ended, ['calls', 'cart:checkout', 'errors']),
    },
    server: { intervalS: windowS, scrapes: sampler.scrapes.length, failures: sampler.failures, charts, missing: missingSeries(charts) },
  };
}

// ---- checks ---------------------------------------------------------------------------------------------

async function productStock(db: pg.Pool): Promise<Map<string, number>> {
  return new Map((await db.query<{ id: string; stock: number }>('SELECT id, stock FROM products')).rows.map((r) => [r.id, Number(r.stock)]));
}

async function lastOutboxSeq(db: pg.Pool): Promise<number> {
  const { rows } = await db.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM outbox');
  return Number(rows[0]!.seq ?? 0);
}

/** How many times each order's order:new is in the socket's feed after `afterSeq`. */
async function orderNewInFeed(socket: LiliumSocket, afterSeq: number, counts: Map<string, number>): Promise<void> {
  let after = afterSeq;
  for (;;) {
    const page = await call(socket, 'feed:sync', { afterSeq: after, limit: 1000 });
    for (const e of page.events) if (e.event === 'order:new') counts.set((e.data as Order).id, (counts.get((e.data as Order).id) ?? 0) + 1);
    after = page.lastSeq;
    if (!page.hasMore) return;
  }
}

/** Every order reached its vendor once, live and in the feed; stock moved only with orders; the ledger balances. */
async function checkInvariants(db: pg.Pool, flow: Flow, dashboards: Session[], startSeq: number, startStock: Map<string, number>) {
  const missing = [...flow.acknowledged].filter((id) => !flow.seenNew.has(id));
  const duplicated = [...flow.seenNew].filter(([, n]) => n > 1).map(([id]) => id);
  // The feed is the source of truth: each vendor's feed:sync has every acknowledged order once.
  const fromFeed = new Map<string, number>();
  for (const d of dashboards) await orderNewInFeed(d.socket, startSeq, fromFeed);
  const feedMissing = [...flow.acknowledged].filter((id) => fromFeed.get(id) !== 1);
  const stockRows = (
    await db.query<{ id: string; stock: string; held: string }>(
      `SELECT p.id, p.stock, coalesce((SELECT sum(i.quantity) FROM order_items i JOIN orders o ON o.id = i.order_id
                                         WHERE i.product_id = p.id AND o.status NOT IN ('REJECTED', 'CANCELLED', 'EXPIRED')), 0) AS held FROM products p`,
    )
  ).rows;
  const stockBroken = stockRows.filter((r) => Number(r.stock) + Number(r.held) !== startStock.get(r.id)).length;
  const ledger = (
    await db.query<{ total: string; unbalanced: string }>(
      `SELECT (SELECT coalesce(sum(amount), 0) FROM ledger_entries) AS total,
              (SELECT count(*) FROM (SELECT tx_id FROM ledger_entries GROUP BY tx_id HAVING sum(amount) <> 0) u) AS unbalanced`,
    )
  ).rows[0]!;
  return {
    everyOrderReachedItsVendor: missing.length === 0,
    noOrderPushedTwice: duplicated.length === 0,
    feedHasEveryOrderOnce: feedMissing.length === 0,
    stockBalances: stockBroken === 0,
    ledgerSumsToZero: Number(ledger.total) === 0 && Number(ledger.unbalanced) === 0,
    missingLive: missing.length,
    duplicatedLive: duplicated.length,
  };
}
const MUST_HOLD = ['everyOrderReachedItsVendor', 'noOrderPushedTwice', 'feedHasEveryOrderOnce', 'stockBalances', 'ledgerSumsToZero'] as const;

// ---- main -----------------------------------------------------------------------------------------------

/** Runs the whole load and answers the exit code: 0 when every check holds. */
async function main(options: Options): Promise<number> {
  const cluster = await startCluster(options.nodes);
  const { db } = cluster;
  const flow = new Flow(new Meter());

  const boss = await cluster.signIn('admin@demo.lilium');
  const zones = (await call(boss.socket, 'zones:list', {})).items;
  const approved = (await call(boss.socket, 'vendors:list', { status: 'APPROVED' })).items;
  await openVendors(
    boss.socket,
    approved.map((v) => v.id),
    1000,
  );
  // Stock high enough that the run never sells out, recorded to check the balance afterwards.
  await db.query(`UPDATE products SET stock = 1000000`);
  const startStock = await productStock(db);

  const drivers = await startDrivers(cluster, flow);
  const dashboards = await startDashboards(
    cluster,
    flow,
    approved.map((v) => v.id),
  );
  const shops = await createShops(
    cluster,
    boss.socket,
    zones.map((z) => z.id),
    options.shops,
    flow,
  );

  const startSeq = await lastOutboxSeq(db);
  const { visits, skipped, runSeconds, cpu, timeline, server } = await drive(flow, options, shops, cluster);
  const checks = await checkInvariants(db, flow, dashboards, startSeq, startStock);

  const { meter } = flow;
  const perSecond = (n: number) => Math.round((n / runSeconds) * 10) / 10;
  const round2 = (n: number) => Math.round(n * 100) / 100;
  const perCheckout = (s: number) => (flow.checkouts ? Math.round((s * 1000) / flow.checkouts) : 0);
  const result: LoadResult & { bench: string } = {
    bench: 'load',
    date: new Date().toISOString(),
    machine: machine(),
    config: {
      nodes: options.nodes,
      durationS: options.durationS,
      targetVisitsPerS: options.rate,
      shops: options.shops,
      searchShare: options.searchShare,
      maxItems: options.maxItems,
      vendors: dashboards.length,
      drivers: drivers.length,
    },
    totals: {
      visits,
      skippedAllShopsBusy: skipped,
      checkouts: flow.checkouts,
      checkoutsPerS: perSecond(flow.checkouts),
      orders: flow.acknowledged.size,
      delivered: flow.delivered.size,
      nodesCpuS: round2(cpu.serverS),
      postgresCpuS: round2(cpu.postgresS),
      generatorCpuS: round2(cpu.clientS),
      /** What one checkout and the rest of its orders' flow cost the nodes and PostgreSQL, less moved by other load than the rate. */
      nodesCpuMsPerCheckout: perCheckout(cpu.serverS),
      postgresCpuMsPerCheckout: perCheckout(cpu.postgresS),
    },
    events: Object.fromEntries(
      [...meter.latencies].sort(([a], [b]) => a.localeCompare(b)).map(([name, l]) => [name, { ...summary(l), perSecond: perSecond(l.length) }]),
    ),
    errors: Object.fromEntries(meter.errors),
    endToEnd: { checkoutToOrderNewMs: summary(meter.checkoutToOrderNew), deliveryStatusToShopMs: summary(meter.statusToShop) },
    checks,
    timeline,
    server,
  };
  const json = writeResult('load.json', JSON.stringify(result, null, 2));
  const html = writeResult('load.html', htmlReport(result));
  // The series over time are for the report; the terminal gets the figures and where the rest is.
  const { timeline: _timeline, server: _server, ...figures } = result;
  console.log(JSON.stringify(figures, null, 2));
  console.log(`load: wrote ${json} and ${html}`);

  for (const s of [boss, ...drivers, ...dashboards, ...shops]) s.socket.close();
  await cluster.close();
  return MUST_HOLD.every((k) => checks[k]) ? 0 : 1;
}

process.exit(await main(parseOptions()));
