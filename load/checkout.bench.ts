/**
 * Checkouts per second on PostgreSQL, and the time from `cart:checkout` to the vendor dashboard's `order:new`.
 *   npm run bench:checkout          (defaults: 2000 checkouts by 40 shops, 16 at a time, 30 products per vendor)
 *   BENCH_PRODUCTS=1 npm run bench:checkout     (every checkout fights over the same three product rows)
 * Beside it, in the same run, the raw ceiling: the same checkout transaction called directly, without
 * Socket.IO, the RPC layer, the idempotency row or the push; and the yardstick: pgbench's tpcb-like transaction
 * sent from Node through `pg` at the same concurrency (load/tpcb.ts, at scale BENCH_TPCB_SCALE), with the checkout's
 * rate as a share of it. The statements one checkout sends are counted on one checkout alone. Builds its own database
 * `lilium_bench_checkout` on the local server (BENCH_PG_URL), runs the real server on 127.0.0.1 and stops by itself.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import pg from 'pg';
import { call, type LiliumSocket } from '../protocol/client.js';
import { createApp } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { checkout } from '../server/orders/checkout.service.js';
import { createCtx } from '../server/rpc/context.js';
import { countCpu } from './cpu.js';
import { createProduct } from './fixtures.js';
import { runTpcb } from './tpcb.js';
import { BENCH_ENV, freshDatabase, machine, openVendors, signIn, writeResult } from './setup.js';
import { runBounded, summary } from './stats.js';

const CHECKOUTS = Number(process.env.BENCH_CHECKOUTS ?? 2000);
const SHOPS = Number(process.env.BENCH_SHOPS ?? 40);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const PER_VENDOR = Number(process.env.BENCH_PRODUCTS ?? 30);
/** pgbench's scale for the yardstick (its default, 1: one branch row that every transaction updates). */
const TPCB_SCALE = Number(process.env.BENCH_TPCB_SCALE ?? 1);
// Each shop has one cart: two checkouts of one cart at once race for it and one finds it empty.
if (SHOPS < CONCURRENCY) throw new Error(`BENCH_SHOPS (${SHOPS}) must be at least BENCH_CONCURRENCY (${CONCURRENCY})`);
const database = await freshDatabase('lilium_bench_checkout');
const databaseName = new URL(database.url).pathname.slice(1);
const config = loadConfig({ ...BENCH_ENV, DATABASE_URL: database.url });
const app = await createApp(config, { log: createLogger('warn') });
const db = app.deps.db;
const connect = async (email: string, password = config.demoPassword): Promise<LiliumSocket> => (await signIn(app.url, email, password)).socket;

// Three vendors open in every zone, each with products that never run out.
const adminSocket = await connect('admin@demo.lilium');
const zones = (await call(adminSocket, 'zones:list', {})).items;
const dashboards = await Promise.all([1, 2, 3].map((i) => connect(`vendor${i}@demo.lilium`)));
const vendorIds = await Promise.all(dashboards.map(async (s) => (await call(s, 'me:get', {})).vendorId!));
await openVendors(adminSocket, vendorIds, 500);
const [category] = await db.query<{ id: string }>(`SELECT id FROM categories WHERE slug = 'sugar'`);
const products: string[][] = [];
for (const [v, s] of dashboards.entries()) {
  const ids: string[] = [];
  for (let i = 0; i < PER_VENDOR; i++) {
    const p = await createProduct(s, { sku: `BENCH-${v}-${i}`, categoryId: category!.id, price: 1000, stock: 10_000_000, zoneIds: zones.map((z) => z.id) });
    ids.push(p.id);
  }
  products.push(ids);
}

const password = 'bench-shop-password';
const shops: Array<{ socket: LiliumSocket; userId: string; shopId: string; zoneId: string; sessionId: string }> = [];
for (let i = 0; i < SHOPS; i++) {
  const zoneId = zones[i % zones.length]!.id;
  const email = `shop-bench-${i}@bench.lilium`;
  const user = await call(adminSocket, 'users:create', { role: 'SHOP_OWNER', name: `Bench ${i}`, email, password, shop: { name: `Bench shop ${i}`, zoneId } });
  const socket = await connect(email, password);
  // The raw run's context carries this sign-in's session: a write checks that its session is live.
  const [session] = await db.query<{ id: string }>(`SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL`, [user.id]);
  shops.push({ socket, userId: user.id, shopId: user.shopId!, zoneId, sessionId: session!.id });
}

// A cart with one line from each of two vendors: every checkout makes two orders.
let picked = 0;
const pick = (v: number, i: number) => products[v % 3]![Math.floor(i / 3) % PER_VENDOR]!;
const fill = (shopId: string, i: number) =>
  db.query(
    `INSERT INTO cart_items (shop_id, product_id, quantity, added_price_minor) SELECT $1, unnest($2::uuid[]), 1, 1000
     ON CONFLICT (shop_id, product_id) DO UPDATE SET quantity = 1`,
    [shopId, [pick(i, i), pick(i + 1, i)]],
  );

// Each worker owns one shop at a time, so no two checkouts share a cart.
const busy = new Set<number>();
const takeShop = () => {
  const i = shops.findIndex((_, k) => !busy.has(k));
  busy.add(i);
  return i;
};

// Through the server: cart:checkout ack, and cart:checkout → order:new on a dashboard.
const sentAt = new Map<string, number>();
const toPush: number[] = [];
const recvAt = new Map<string, number>();
const ackAt = new Map<string, number>();
for (const d of dashboards) {
  d.on('order:new', (e) => {
    const t0 = sentAt.get(e.data.note ?? '');
    if (t0 !== undefined) toPush.push(performance.now() - t0);
    recvAt.set(e.data.note ?? '', performance.now()); // a checkout's second order:new replaces its first: the later
  });
}
const viaServer = async (n: number) =>
  runBounded(n, CONCURRENCY, async () => {
    const k = takeShop();
    try {
      await fill(shops[k]!.shopId, picked++);
      const note = randomUUID();
      sentAt.set(note, performance.now());
      await call(shops[k]!.socket, 'cart:checkout', { idempotencyKey: randomUUID(), note });
      ackAt.set(note, performance.now());
    } finally {
      busy.delete(k);
    }
  });

// The raw ceiling: the same transaction, called in-process.
const direct = async (n: number) =>
  runBounded(n, CONCURRENCY, async () => {
    const k = takeShop();
    const shop = shops[k]!;
    try {
      await fill(shop.shopId, picked++);
      const ctx = createCtx({
        requestId: randomUUID(),
        actor: { userId: shop.userId, role: 'SHOP_OWNER', sessionId: shop.sessionId, vendorId: null, shopId: shop.shopId, zoneIds: [shop.zoneId] },
        socketId: null,
        clientAddress: null,
        deps: app.deps,
        log: app.deps.log,
        bindSocket: null,
      });
      await checkout(ctx, { idempotencyKey: randomUUID() });
    } finally {
      busy.delete(k);
    }
  });

/**
 * The statements of one checkout alone: those of its transaction and their round trips (BEGIN to COMMIT on the connection that wrote its
 * idempotency key), and every statement any connection sent from its start until a second after its answer (the
 * deliveries sent, the outbox sequenced, pg-boss's fetches and completions, and its polling meanwhile), less the fill.
 */
async function countStatements(run: () => Promise<unknown>): Promise<{ inTransaction: number; tripsInTransaction: number; withBackground: number }> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  // Per connection, each round trip's text and statements (db/pipeline.ts sends several in one).
  const byClient = new Map<object, Array<{ text: string; statements: number }>>();
  let all = 0;
  proto.query = function (this: object, ...args: unknown[]) {
    const q = args[0] as string | { text: string; statements?: unknown[] };
    const trips = byClient.get(this) ?? [];
    byClient.set(this, trips);
    const statements = typeof q === 'string' ? 1 : (q.statements?.length ?? 1);
    trips.push({ text: typeof q === 'string' ? q : q.text, statements });
    all += statements;
    return original.apply(this, args);
  };
  try {
    await run();
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    proto.query = original;
  }
  const trips = [...byClient.values()].find((t) => t.some((q) => q.text.includes('INSERT INTO idempotency_keys')))!;
  const claim = trips.findIndex((q) => q.text.includes('INSERT INTO idempotency_keys'));
  const begin = trips.findLastIndex((q, i) => i <= claim && q.text.startsWith('BEGIN'));
  const commit = trips.findIndex((q, i) => i >= claim && q.text.endsWith('COMMIT'));
  const own = trips.slice(begin, commit + 1);
  return { inTransaction: own.reduce((n, q) => n + q.statements, 0), tripsInTransaction: own.length, withBackground: all - 1 };
}

/**
 * BENCH_CPU_PROF=<file>: a V8 CPU profile of this process (server, its background work and the clients) over the timed run
 * through the server, for Chrome DevTools or a script; nothing when unset.
 */
async function startProfile(): Promise<(() => Promise<void>) | null> {
  const file = process.env.BENCH_CPU_PROF;
  if (!file) return null;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

/**
 * BENCH_STATEMENTS=1 (a cluster that preloads pg_stat_statements, BENCH_PG_URL; planning is timed with
 * pg_stat_statements.track_planning on): PostgreSQL's execution and planning time, buffers and WAL records per
 * statement over the timed run through the server, per checkout, the costliest first; null when unset.
 */
async function startStatements(): Promise<((n: number) => Promise<unknown[]>) | null> {
  if (!process.env.BENCH_STATEMENTS) return null;
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await client.query('SELECT pg_stat_statements_reset()');
  return async (n) => {
    const { rows } = await client.query(
      `SELECT round((total_exec_time / $1::int)::numeric, 3)::float AS "msPerCheckout", round((total_plan_time / $1::int)::numeric, 3)::float AS "planMsPerCheckout", round((calls::numeric / $1::int), 2)::float AS "callsPerCheckout",
              round(((shared_blks_hit + shared_blks_read)::numeric / greatest(calls, 1)), 1)::float AS "buffersPerCall",
              round((wal_records::numeric / greatest(calls, 1)), 1)::float AS "walRecordsPerCall", left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query
         FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        ORDER BY total_exec_time + total_plan_time DESC LIMIT 25`,
      [n],
    );
    await client.end();
    return rows;
  };
}

// The timed "fill" is part of both runs alike; it is one small statement.
await viaServer(100);
await direct(100);
await new Promise((r) => setTimeout(r, 1000));
const statementsPerCheckout = await countStatements(() => viaServer(1));
const tpcb = await runTpcb({ transactions: CHECKOUTS * 2, concurrency: CONCURRENCY, scale: TPCB_SCALE });
toPush.length = 0;
const profiler = await startProfile();
const statements = await startStatements();
const serverCpu = countCpu(process.pid, databaseName);
const server = await viaServer(CHECKOUTS);
await new Promise((r) => setTimeout(r, 500)); // the last pushes
const serverSpent = serverCpu();
await profiler?.();
const statementsOfRun = await statements?.(CHECKOUTS);
const serverToPush = summary(toPush);
const rawCpu = countCpu(process.pid, databaseName);
const raw = await direct(CHECKOUTS);
const rawSpent = rawCpu();

// Then at half the rate just measured, open loop: checkouts start on a schedule whether or not earlier ones are done.
const halfRate = Number(process.env.BENCH_PACED_RATE ?? 0) || Math.max(1, Math.round(CHECKOUTS / server.seconds / 2));
toPush.length = 0;
const paced: Array<Promise<unknown>> = [];
const pacedStart = performance.now();
const pacedCount = Math.min(CHECKOUTS, halfRate * 20);
for (let i = 0; i < pacedCount; i++) {
  await new Promise((r) => setTimeout(r, Math.max(0, pacedStart + (i * 1000) / halfRate - performance.now())));
  paced.push(viaServer(1));
}
await Promise.all(paced);
await new Promise((r) => setTimeout(r, 500));
// Where the time from the checkout to order:new goes: the checkout's own answer, and order:new after that answer (the
// push is sent at commit, before the answer, so it can be negative).
const pacedNotes = [...ackAt].filter(([note]) => sentAt.get(note)! >= pacedStart);
const atHalfRate = {
  checkoutsPerSecond: halfRate,
  checkouts: pacedCount,
  checkoutToOrderNewMs: summary(toPush),
  ackMs: summary(pacedNotes.map(([note, at]) => at - sentAt.get(note)!)),
  ackToOrderNewMs: summary(pacedNotes.flatMap(([note, at]) => (recvAt.has(note) ? [recvAt.get(note)! - at] : []))),
};

/** CPU milliseconds per checkout: this process (the server with its background work, and the clients) and PostgreSQL's backends. */
function perCall(spent: { serverS: number; postgresS: number }, n: number) {
  const ms = (s: number) => Math.round((s * 1e6) / n) / 1000;
  return { node: ms(spent.serverS), postgres: ms(spent.postgresS) };
}

const out = {
  bench: 'checkout',
  date: new Date().toISOString(),
  machine: machine(),
  checkouts: CHECKOUTS,
  ordersPerCheckout: 2,
  shops: SHOPS,
  productsPerVendor: PER_VENDOR,
  concurrency: CONCURRENCY,
  statementsPerCheckout,
  tpcb,
  /** The checkout's rate through the server as a share of the tpcb-like rate from Node, same run, same concurrency (issue 15: at least 0.25). */
  checkoutToTpcbRatio: Math.round((CHECKOUTS / server.seconds / tpcb.node.tps) * 1000) / 1000,
  /** The same against pgbench itself on the same tables and clients, when it is installed. */
  checkoutToPgbenchRatio: tpcb.pgbench ? Math.round((CHECKOUTS / server.seconds / tpcb.pgbench.tps) * 1000) / 1000 : null,
  server: {
    checkoutsPerSecond: Math.round(CHECKOUTS / server.seconds),
    ackMs: summary(server.latencies),
    checkoutToOrderNewMs: serverToPush,
    errors: server.errors,
    cpuMsPerCheckout: perCall(serverSpent, CHECKOUTS),
  },
  atHalfRate,
  rawTransaction: {
    checkoutsPerSecond: Math.round(CHECKOUTS / raw.seconds),
    ms: summary(raw.latencies),
    errors: raw.errors,
    cpuMsPerCheckout: perCall(rawSpent, CHECKOUTS),
  },
  /** BENCH_STATEMENTS=1: PostgreSQL's time per statement over the timed run through the server. */
  statements: statementsOfRun ?? null,
};
writeResult('checkout.json', JSON.stringify(out, null, 2));
console.log(JSON.stringify(out, null, 2));

for (const s of [adminSocket, ...dashboards, ...shops.map((s) => s.socket)]) s.close();
await app.close();
await database.drop();
process.exit(0);
