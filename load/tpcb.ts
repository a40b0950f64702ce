/**
 * pgbench's tpcb-like transaction sent from Node through `pg`: what a simple write transaction costs on this
 * machine, so a checkout can be measured against it in the same run. The tables are pgbench's (scale `scale`:
 * 1 branch, 10 tellers and 100,000 accounts per unit), made in a database of their own.
 */
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { countCpu } from './cpu.js';
import { freshDatabase } from './setup.js';
import { runBounded, summary } from './stats.js';

/** pgbench's tables and rows, as `pgbench -i` makes them (fillfactor left at its default). */
async function createTables(client: pg.Client, scale: number): Promise<void> {
  await client.query(`
    CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88));
    CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler char(84));
    CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84));
    CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));`);
  await client.query(`INSERT INTO pgbench_branches (bid, bbalance) SELECT b, 0 FROM generate_series(1, $1::int) b`, [scale]);
  await client.query(`INSERT INTO pgbench_tellers (tid, bid, tbalance) SELECT t, (t - 1) / 10 + 1, 0 FROM generate_series(1, $1::int * 10) t`, [scale]);
  await client.query(
    `INSERT INTO pgbench_accounts (aid, bid, abalance, filler) SELECT a, (a - 1) / 100000 + 1, 0, '' FROM generate_series(1, $1::int * 100000) a`,
    [scale],
  );
  await client.query('VACUUM ANALYZE');
}

const random = (n: number) => 1 + Math.floor(Math.random() * n);

/** One tpcb-like transaction, statement by statement as pgbench sends it, each waiting for the one before. */
async function transaction(pool: pg.Pool, scale: number): Promise<void> {
  const aid = random(100_000 * scale);
  const tid = random(10 * scale);
  const bid = random(scale);
  const delta = Math.floor(Math.random() * 10_001) - 5000;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2', [delta, aid]);
    await client.query('SELECT abalance FROM pgbench_accounts WHERE aid = $1', [aid]);
    await client.query('UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2', [delta, tid]);
    await client.query('UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2', [delta, bid]);
    await client.query('INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)', [tid, bid, aid, delta]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export interface TpcbResult {
  scale: number;
  concurrency: number;
  transactions: number;
  /** From Node through `pg`, one connection per transaction in flight. */
  node: ReturnType<typeof summary> & { tps: number; errors: Record<string, number>; cpuMsPerTransaction: { node: number; postgres: number } };
  /** `pgbench -b tpcb-like` on the same tables and clients, when the binary is on the PATH (else null). */
  pgbench: { tps: number } | null;
}

/** Runs `transactions` tpcb-like transactions at `concurrency` in flight on a database of its own, then drops it. */
export async function runTpcb({ transactions, concurrency, scale }: { transactions: number; concurrency: number; scale: number }): Promise<TpcbResult> {
  const database = await freshDatabase('lilium_bench_tpcb', '_tpcb');
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  await createTables(admin, scale);
  await admin.end();
  const pool = new pg.Pool({ connectionString: database.url, max: concurrency });
  await runBounded(Math.min(500, transactions), concurrency, () => transaction(pool, scale));
  const spent = countCpu(process.pid, new URL(database.url).pathname.slice(1));
  const run = await runBounded(transactions, concurrency, () => transaction(pool, scale));
  const cpu = spent();
  await pool.end();
  const perTx = (s: number) => Math.round((s * 1e6) / run.latencies.length) / 1000;
  const pgbench = runPgbench(database.url, transactions, concurrency);
  await database.drop();
  return {
    scale,
    concurrency,
    transactions,
    node: {
      ...summary(run.latencies),
      tps: Math.round(run.latencies.length / run.seconds),
      errors: run.errors,
      cpuMsPerTransaction: { node: perTx(cpu.serverS), postgres: perTx(cpu.postgresS) },
    },
    pgbench,
  };
}

/** pgbench itself on the same tables (no vacuum: the tables were just made), or null where it is not installed. */
function runPgbench(url: string, transactions: number, clients: number): { tps: number } | null {
  const perClient = String(Math.max(1, Math.round(transactions / clients)));
  const r = spawnSync('pgbench', ['-n', '-b', 'tpcb-like', '-c', String(clients), '-j', '2', '-t', perClient, url], { encoding: 'utf8', timeout: 120_000 });
  const tps = /tps = ([\d.]+)/.exec(r.stdout ?? '');
  return tps ? { tps: Math.round(Number(tps[1])) } : null;
}
