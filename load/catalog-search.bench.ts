/**
 * products:list search on a 100k-product catalogue, on PostgreSQL.
 *   npm run bench:search            (defaults: 100000 products, 3000 calls, 8 at a time)
 * Builds its own database `lilium_bench_search` (BENCH_DB) on the local server (BENCH_PG_URL), runs the real
 * server on 127.0.0.1, and stops by itself. BENCH_REUSE=1 runs on a catalogue an earlier BENCH_KEEP=1 run left
 * (migrating it to this code first, as a deployment would) and keeps it, so a before/after pair need not rebuild it.
 */
import { createApp } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { call } from '../protocol/client.js';
import { countCpu } from './cpu.js';
import { BENCH_SEARCH_TERMS } from './fixtures.js';
import pg from 'pg';
import { BENCH_ENV, freshDatabase, machine, signIn, writeResult } from './setup.js';
import { runBounded, summary } from './stats.js';

const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 100_000);
const CALLS = Number(process.env.BENCH_CALLS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const database = (await keptCatalogue()) ?? (await freshDatabase('lilium_bench_search'));
const reused = 'reused' in database;
const config = loadConfig({ ...BENCH_ENV, DATABASE_URL: database.url });
const app = await createApp(config, { log: createLogger('warn') });

/** The database BENCH_REUSE names, when it exists and already holds PRODUCTS products. */
async function keptCatalogue(): Promise<{ url: string; reused: true } | undefined> {
  if (!process.env.BENCH_REUSE || !process.env.BENCH_DB) return undefined;
  const url = Object.assign(new URL(process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'), { pathname: `/${process.env.BENCH_DB}` });
  const client = new pg.Client({ connectionString: url.toString() });
  try {
    await client.connect();
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM products');
    return rows[0]!.n >= PRODUCTS ? { url: url.toString(), reused: true } : undefined;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

// Grow the demo catalogue: every demo product again under new SKUs with varied sizes, until PRODUCTS.
const t0 = performance.now();
if (!reused) await growCatalogue();
async function growCatalogue(): Promise<void> {
  await app.deps.db.query(
    `INSERT INTO products (vendor_id, category_id, sku, name_ar, name_en, description_ar, description_en, unit, units_per_pack, price_minor, min_order_qty, stock, featured, sold_count, created_at)
   SELECT p.vendor_id, p.category_id, p.sku || '-G' || g, p.name_ar || ' ' || (g % 97 + 1) || ' قطعة', p.name_en || ' ' || (g % 97 + 1) || ' pcs',
          p.description_ar, p.description_en, p.unit, p.units_per_pack, p.price_minor + (g % 50) * 250000, p.min_order_qty, (g * 7919) % 500, g % 23 = 0, g % 1000,
          now() - make_interval(secs => g)
     FROM products p CROSS JOIN generate_series(1, ceil(($1::int - (SELECT count(*) FROM products)) / (SELECT count(*) FROM products)::numeric)::int) g`,
    [PRODUCTS],
  );
  await app.deps.db.query(
    `INSERT INTO product_zones (product_id, zone_id) SELECT p.id, vz.zone_id FROM products p JOIN vendor_zones vz ON vz.vendor_id = p.vendor_id ON CONFLICT DO NOTHING`,
  );
  // As autovacuum would after a bulk load: merges the GIN pending lists and sets the visibility map.
  await app.deps.db.query('VACUUM ANALYZE');
}
const [{ n }] = (await app.deps.db.query<{ n: number }>('SELECT count(*)::int AS n FROM products')) as [{ n: number }];
const buildS = (performance.now() - t0) / 1000;

const shops = await Promise.all([1, 2, 3, 4].map(async (i) => (await signIn(app.url, `shop${i}@demo.lilium`, config.demoPassword)).socket));

const queries = BENCH_SEARCH_TERMS;
// BENCH_DETAIL: per term, one call at a time, its latency and the CPU it costs (less moved by other load).
const detail: Record<string, { ms: number; cpuMsPerCall: { node: number; postgres: number } }> = {};
if (process.env.BENCH_DETAIL) {
  const n = Number(process.env.BENCH_DETAIL_CALLS ?? 40);
  for (const q of queries) {
    for (let i = 0; i < 5; i++) await call(shops[0]!, 'products:list', { q, limit: 20 });
    const spent = countCpu(process.pid, new URL(database.url).pathname.slice(1));
    const t = performance.now();
    for (let i = 0; i < n; i++) await call(shops[0]!, 'products:list', { q, limit: 20 });
    const cpu = spent();
    const perCall = (s: number) => Math.round((s * 1000 * 100) / n) / 100;
    detail[q] = { ms: Math.round(((performance.now() - t) / n) * 10) / 10, cpuMsPerCall: { node: perCall(cpu.serverS), postgres: perCall(cpu.postgresS) } };
  }
}
// CPU per call (this process: server and clients; PostgreSQL: the database's backends), which a machine shared
// with other work disturbs far less than the latencies.
const databaseName = new URL(database.url).pathname.slice(1);
const results: Record<string, ReturnType<typeof summary> & { rps: number; errors: Record<string, number>; cpuMsPerCall: { node: number; postgres: number } }> =
  {};
for (const [name, input] of [
  ['search (q, relevance)', (i: number) => ({ q: queries[i % queries.length]!, limit: 20 })],
  [
    'search + filters (q, inStock, price range)',
    (i: number) => ({ q: queries[i % queries.length]!, inStock: true, minPrice: 1_000_000, maxPrice: 40_000_000, limit: 20 }),
  ],
  ['browse (no q, newest)', () => ({ limit: 20 })],
] as const) {
  await runBounded(200, CONCURRENCY, (i) => call(shops[i % shops.length]!, 'products:list', input(i))); // warm-up
  const spent = countCpu(process.pid, databaseName);
  const r = await runBounded(CALLS, CONCURRENCY, (i) => call(shops[i % shops.length]!, 'products:list', input(i)));
  const cpu = spent();
  const perCall = (s: number) => Math.round((s * 1000 * 100) / CALLS) / 100;
  results[name] = {
    ...summary(r.latencies),
    rps: Math.round(CALLS / r.seconds),
    errors: r.errors,
    cpuMsPerCall: { node: perCall(cpu.serverS), postgres: perCall(cpu.postgresS) },
  };
}

const out = {
  bench: 'catalog-search',
  date: new Date().toISOString(),
  machine: machine(),
  products: n,
  buildSeconds: Math.round(buildS),
  calls: CALLS,
  concurrency: CONCURRENCY,
  results,
  ...(process.env.BENCH_DETAIL ? { detail } : {}),
};
writeResult('catalog-search.json', JSON.stringify(out, null, 2));
console.log(JSON.stringify(out, null, 2));

for (const s of shops) s.close();
await app.close();
// BENCH_KEEP=1 leaves the catalogue in place, for EXPLAIN (ANALYZE, BUFFERS) of a search on it.
if (!process.env.BENCH_KEEP && !reused) await (database as Awaited<ReturnType<typeof freshDatabase>>).drop();
process.exit(0);
