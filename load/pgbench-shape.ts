/**
 * pgbench's built-in "tpcb-like" transaction, sent from Node through `pg`: the yardstick a Lilium transaction is
 * compared with in the same run, on the same machine and at the same concurrency. The tables are pgbench's own
 * (`pgbench_accounts`, `…_tellers`, `…_branches`, `…_history`) at a scale of BENCH_PGBENCH_SCALE (pgbench's
 * default, 1: 100,000 accounts, 10 tellers, one branch), made in the benchmark's own database.
 */
import pg from 'pg';
import { runBounded } from './stats.js';

export const PGBENCH_SCALE = Number(process.env.BENCH_PGBENCH_SCALE ?? 1);
const ACCOUNTS = 100_000;
const TELLERS = 10;

/** pgbench -i: the four tables, filled and vacuumed. */
export async function createPgbenchTables(url: string, scale = PGBENCH_SCALE): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      DROP TABLE IF EXISTS pgbench_history, pgbench_tellers, pgbench_accounts, pgbench_branches;
      CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88)) WITH (fillfactor = 100);
      CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler char(84)) WITH (fillfactor = 100);
      CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84)) WITH (fillfactor = 100);
      CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));`);
    await client.query(`INSERT INTO pgbench_branches (bid, bbalance) SELECT b, 0 FROM generate_series(1, $1::int) AS b`, [scale]);
    await client.query(`INSERT INTO pgbench_tellers (tid, bid, tbalance) SELECT t, (t - 1) / $2::int + 1, 0 FROM generate_series(1, $1::int) AS t`, [
      scale * TELLERS,
      TELLERS,
    ]);
    await client.query(
      `INSERT INTO pgbench_accounts (aid, bid, abalance, filler) SELECT a, (a - 1) / $2::int + 1, 0, '' FROM generate_series(1, $1::int) AS a`,
      [scale * ACCOUNTS, ACCOUNTS],
    );
    await client.query(`VACUUM ANALYZE pgbench_branches, pgbench_tellers, pgbench_accounts, pgbench_history`);
  } finally {
    await client.end();
  }
}

const random = (n: number) => 1 + Math.floor(Math.random() * n);

/**
 * `count` tpcb-like transactions, `concurrency` at a time on a pool of as many connections, each statement a round
 * trip with parameters (pgbench's `-M extended`): BEGIN; UPDATE accounts; SELECT; UPDATE tellers; UPDATE branches;
 * INSERT history; COMMIT.
 */
export async function runPgbenchShape(url: string, count: number, concurrency: number, scale = PGBENCH_SCALE) {
  const pool = new pg.Pool({ connectionString: url, max: concurrency });
  try {
    // Every connection opened before the clock starts, as pgbench's are.
    const clients = await Promise.all(Array.from({ length: concurrency }, () => pool.connect()));
    clients.forEach((c) => c.release());
    const run = await runBounded(count, concurrency, async () => {
      const aid = random(scale * ACCOUNTS);
      const tid = random(scale * TELLERS);
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
    });
    return { ...run, transactionsPerSecond: Math.round(count / run.seconds) };
  } finally {
    await pool.end();
  }
}
