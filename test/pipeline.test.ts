import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDataSource } from '../db/data-source.js';
import { pipeline as settled, type Compiled } from '../db/pipeline.js';
import { sql } from '../db/sql.js';
import { Db, RERUN, runAgain } from '../db/tx.js';
import { Refusals1764200700000 } from '../db/migrations/1764200700000-refusals.js';
import { REFUSALS, unlessRefused } from '../server/db-errors.js';
import { TEST_DB_PREFIX, TEST_PG_URL, dbUrl } from './support/env.js';
import { statementsOf } from './support/statements.js';

// Real PostgreSQL: the point is what the server does with statements sent behind one another in one write.
const dbName = `${TEST_DB_PREFIX}pipeline_${process.pid}`;
const admin = new pg.Client({ connectionString: TEST_PG_URL });
const client = new pg.Client({ connectionString: dbUrl(dbName) });
const source = createDataSource({ kind: 'postgres', url: dbUrl(dbName), poolSize: 2 });
const db = new Db(source, 'postgres');
/** The pipeline's answers, or its error thrown. */
const pipeline = async (on: pg.ClientBase, statements: Compiled[]) => {
  const { answers, error } = await settled(on, statements);
  if (error) throw error;
  return answers;
};
const names = async () => (await client.query<{ n: string }>('SELECT n FROM notes ORDER BY n')).rows.map((r) => r.n);

beforeAll(async () => {
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  await client.connect();
  await client.query('CREATE TABLE notes (n text PRIMARY KEY)');
  // lilium_refuse, with which a statement sent at commit asks for its transaction to run again.
  await new Refusals1764200700000().up({ query: (text: string) => client.query(text) } as never);
  await source.initialize();
});
afterAll(async () => {
  await source.destroy();
  await client.end();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.end();
});

describe('pipeline', () => {
  test('answers every statement in order, from one query of the client', async () => {
    const sent = await statementsOf(async () => {
      const results = await pipeline(client, [
        { text: 'BEGIN' },
        { text: 'INSERT INTO notes VALUES ($1)', values: ['a'] },
        { text: 'SELECT n FROM notes WHERE n = $1', values: ['a'], name: 'pipeline_test_select' },
        { text: 'COMMIT' },
      ]);
      expect(results.map((r) => [r.command, r.rows])).toEqual([
        ['BEGIN', []],
        ['INSERT', []],
        ['SELECT', [{ n: 'a' }]],
        ['COMMIT', []],
      ]);
    });
    expect(new Set(sent.map((s) => s.trip)).size).toBe(1);
    expect(await names()).toEqual(['a']);
  });

  test('a statement that fails skips the rest: the COMMIT behind it never runs', async () => {
    const failed = pipeline(client, [
      { text: 'BEGIN' },
      { text: 'INSERT INTO notes VALUES ($1)', values: ['b'] },
      { text: 'SELECT 1 / 0' },
      { text: 'COMMIT' },
    ]);
    await expect(failed).rejects.toMatchObject({ code: '22012' });
    // Still in the transaction the failure aborted, as a statement sent alone would leave it.
    await expect(client.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    await client.query('ROLLBACK');
    expect(await names()).toEqual(['a']);
  });

  test('a named statement the failure skipped is parsed again at its next use; one parsed before the failure is not', async () => {
    const skipped = { text: 'SELECT count(*)::int AS c FROM notes', name: 'pipeline_test_skipped' };
    const parsed = { text: 'SELECT max(n) AS m FROM notes', name: 'pipeline_test_parsed' };
    await expect(pipeline(client, [parsed, { text: 'SELECT 1 / 0' }, skipped])).rejects.toMatchObject({ code: '22012' });
    // Marked wrongly either way, these would fail: "prepared statement … does not exist" or "… already exists".
    expect((await client.query(skipped)).rows).toEqual([{ c: 1 }]);
    expect((await client.query(parsed)).rows).toEqual([{ m: 'a' }]);
    expect((await pipeline(client, [skipped, parsed])).map((r) => r.rows)).toEqual([[{ c: 1 }], [{ m: 'a' }]]);
  });

  test('a value pg cannot send fails the pipeline before anything is written; the connection goes on', async () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    const sent = pipeline(client, [
      { text: 'INSERT INTO notes VALUES ($1)', values: ['z'] },
      { text: 'SELECT $1::jsonb', values: [loop] },
    ]);
    await expect(sent).rejects.toThrow(/circular/);
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(await names()).toEqual(['a']);
  });
});

describe('a transaction on PostgreSQL', () => {
  test('sends BEGIN with its first statement and COMMIT with its held writes', async () => {
    const sent = await statementsOf(() =>
      db.tx(async (tx) => {
        await tx.query(sql`INSERT INTO notes VALUES ('c')`);
        await tx.query(sql`SELECT 1`);
        tx.hold(() => ({ write: sql`INSERT INTO notes VALUES ('d')` }));
      }),
    );
    const trips = [...new Set(sent.map((s) => s.trip))].map((t) => sent.filter((s) => s.trip === t).map((s) => s.sql.replace(/\s+/g, ' ').trim()));
    expect(trips).toEqual([
      ['BEGIN', 'SET LOCAL plan_cache_mode = force_generic_plan', "INSERT INTO notes VALUES ('c')"],
      ['SELECT 1'],
      ["WITH w0 AS (INSERT INTO notes VALUES ('d')) SELECT 1", 'COMMIT'],
    ]);
    expect(await names()).toEqual(['a', 'c', 'd']);
  });

  test('statements issued together go in one round trip, in order; one that fails fails those behind it, not those before', async () => {
    let outcomes: PromiseSettledResult<unknown[]>[] = [];
    const sent = await statementsOf(async () => {
      const failed = db.tx(async (tx) => {
        outcomes = await Promise.allSettled([
          tx.query(sql`SELECT count(*)::int AS c FROM notes`),
          tx.query(sql`INSERT INTO notes VALUES ('x') RETURNING n`),
          tx.query(sql`SELECT 1 / 0`),
          tx.query(sql`INSERT INTO notes VALUES ('y')`),
        ]);
      });
      await expect(failed).rejects.toThrow('the transaction was rolled back');
    });
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as { code: string }).code))).toEqual([
      [{ c: 3 }],
      [{ n: 'x' }],
      '22012',
      '22012',
    ]);
    expect(sent.filter((s) => s.trip === sent[0]!.trip).map((s) => s.sql)).toEqual([
      'BEGIN',
      'SET LOCAL plan_cache_mode = force_generic_plan',
      'SELECT count(*)::int AS c FROM notes',
      "INSERT INTO notes VALUES ('x') RETURNING n",
      'SELECT 1 / 0',
      "INSERT INTO notes VALUES ('y')",
    ]);
    expect(await names()).toEqual(['a', 'c', 'd']);
  });

  test('a statement nobody waited for is sent before the COMMIT and commits with it', async () => {
    const sent = await statementsOf(() =>
      db.tx(async (tx) => {
        void tx.query(sql`INSERT INTO notes VALUES ('h')`);
      }),
    );
    expect(sent.map((s) => s.sql)).toEqual(['BEGIN', 'SET LOCAL plan_cache_mode = force_generic_plan', "INSERT INTO notes VALUES ('h')", 'COMMIT']);
    expect(await names()).toEqual(['a', 'c', 'd', 'h']);
    await client.query(`DELETE FROM notes WHERE n = 'h'`);
  });

  test('a statement issued while the work fails is never sent: nothing runs after the ROLLBACK or the release', async () => {
    // Neither connection left inside a transaction: there now() is the transaction's start, not this statement's.
    const fresh = sql`SELECT now() = statement_timestamp() AS fresh`;
    // However many turns the failure takes to reach the transaction, one of these issues the statement just before it does.
    for (let ticks = 0; ticks < 12; ticks++) {
      let late: Promise<unknown> = Promise.resolve();
      const failed = db.tx(async (tx) => {
        await Promise.all([
          Promise.reject(new Error('work failed')),
          (async () => {
            for (let i = 0; i < ticks; i++) await null;
            late = tx.query(sql`INSERT INTO notes VALUES (${`late${ticks}`})`).catch(() => undefined);
          })(),
        ]);
      });
      await expect(failed).rejects.toThrow('work failed');
      await late;
      expect(await Promise.all([db.query(fresh), db.query(fresh)])).toEqual([[{ fresh: true }], [{ fresh: true }]]);
    }
    expect((await names()).filter((n) => n.startsWith('late'))).toEqual([]);
  });

  test('a held write that fails rolls back what came before it', async () => {
    const failed = db.tx(async (tx) => {
      await tx.query(sql`INSERT INTO notes VALUES ('e')`);
      tx.hold(() => ({ write: sql`INSERT INTO notes VALUES ('a')` }));
    });
    await expect(failed).rejects.toMatchObject({ code: '23505' });
    expect(await names()).toEqual(['a', 'c', 'd']);
    // The connection went back to the pool out of any transaction: the next one commits.
    await db.tx((tx) => tx.query(sql`INSERT INTO notes VALUES ('f')`));
    expect(await names()).toEqual(['a', 'c', 'd', 'f']);
  });

  test('one whose only statement is a held write that fails leaves no connection in an aborted transaction', async () => {
    await expect(db.tx(async (tx) => tx.hold(() => ({ write: sql`INSERT INTO notes VALUES (NULL)` })))).rejects.toMatchObject({ code: '23502' });
    // Both connections of the pool at once: one left inside the aborted transaction would answer 25P02.
    const ones = await Promise.all([db.query(sql`SELECT 1 AS one`), db.query(sql`SELECT 1 AS one`)]);
    expect(ones).toEqual([[{ one: 1 }], [{ one: 1 }]]);
  });

  test('one whose connection dies fails, without an uncaught error, and the pool goes on', async () => {
    const failed = db.tx(async (tx) => {
      const [row] = await tx.query<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid`);
      await admin.query('SELECT pg_terminate_backend($1)', [row!.pid]);
      await tx.query(sql`INSERT INTO notes VALUES ('dead')`);
    });
    await expect(failed).rejects.toThrow();
    const ones = await Promise.all([db.query(sql`SELECT 1 AS one`), db.query(sql`SELECT 1 AS one`)]);
    expect(ones).toEqual([[{ one: 1 }], [{ one: 1 }]]);
    expect(await names()).not.toContain('dead');
  });

  test('one whose failed statement was caught is not reported committed', async () => {
    const failed = db.tx(async (tx) => {
      await tx.query(sql`INSERT INTO notes VALUES ('g')`);
      await tx.query(sql`SELECT 1 / 0`).catch(() => undefined);
    });
    await expect(failed).rejects.toThrow('the transaction was rolled back');
    expect(await names()).toEqual(['a', 'c', 'd', 'f']);
  });

  test('runs its prepared statements on their generic plan; statements outside one keep the default', async () => {
    const byKey = (n: string) => sql`SELECT n FROM notes WHERE n = ANY(${[n]}::text[])`.prepared();
    const { name } = byKey('a').compile();
    const plans = await db.tx(async (tx) => {
      for (const n of ['a', 'c', 'd']) await tx.query(byKey(n));
      return tx.query(sql`SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = ${name}`);
    });
    expect(plans).toEqual([{ generic_plans: 3, custom_plans: 0 }]);
    const mode = sql`SELECT current_setting('plan_cache_mode') AS mode`;
    expect(await Promise.all([db.query(mode), db.query(mode)])).toEqual([[{ mode: 'auto' }], [{ mode: 'auto' }]]);
  });

  test('sends nothing when it has nothing to send, and refuses a statement once it has ended', async () => {
    let ended: Parameters<Parameters<Db['tx']>[0]>[0] | undefined;
    const sent = await statementsOf(() => db.tx(async (tx) => void (ended = tx)));
    expect(sent).toEqual([]);
    await expect(ended!.query(sql`SELECT 1`)).rejects.toThrow('a statement of a transaction that has ended');
  });
});

describe('statements sent at commit', () => {
  const mine = async () => (await names()).filter((n) => n.startsWith('k-'));
  afterAll(() => client.query(`DELETE FROM notes WHERE n LIKE 'k-%'`));
  /** Fails, asking for a second run, while `condition` is false. */
  const rerunUnless = (condition: boolean) => sql`SELECT ${unlessRefused(sql`${condition}::boolean`, REFUSALS.rerun)}`;

  test('go in the last round trip, ahead of the held writes, and commit with them', async () => {
    const sent = await statementsOf(() =>
      db.tx(async (tx) => {
        await tx.query(sql`INSERT INTO notes VALUES ('k-1')`);
        tx.atCommit(sql`INSERT INTO notes VALUES ('k-2')`);
        tx.hold(() => ({ write: sql`INSERT INTO notes VALUES ('k-3')` }));
      }),
    );
    expect(sent.filter((s) => s.trip === sent.at(-1)!.trip).map((s) => s.sql.replace(/\s+/g, ' ').trim())).toEqual([
      "INSERT INTO notes VALUES ('k-2')",
      "WITH w0 AS (INSERT INTO notes VALUES ('k-3')) SELECT 1",
      'COMMIT',
    ]);
    expect(await mine()).toEqual(['k-1', 'k-2', 'k-3']);
  });

  test('one that asks for it runs the whole transaction again, with rerun set; the first run leaves no row and runs no hook', async () => {
    const runs: boolean[] = [];
    const hooks: boolean[] = [];
    await db.tx(async (tx) => {
      runs.push(tx.rerun);
      await tx.query(sql`INSERT INTO notes VALUES (${tx.rerun ? 'k-second' : 'k-first'})`);
      tx.afterCommit(() => void hooks.push(tx.rerun));
      tx.hold(() => ({ write: sql`INSERT INTO notes VALUES (${tx.rerun ? 'k-held-second' : 'k-held-first'})` }));
      tx.atCommit(rerunUnless(tx.rerun));
    });
    expect(runs).toEqual([false, true]);
    expect(hooks).toEqual([true]);
    expect(await mine()).toEqual(['k-1', 'k-2', 'k-3', 'k-held-second', 'k-second']);
  });

  test('runAgain starts the transaction over; what its first run carried, the second finds', async () => {
    const seen: string[][] = [];
    await db.tx(async (tx) => {
      const learned = tx.carried<string[]>('test:learned', () => []);
      seen.push([...learned]);
      if (!tx.rerun) {
        learned.push('found in the first run');
        runAgain();
      }
    });
    expect(seen).toEqual([[], ['found in the first run']]);
    // Another transaction starts with nothing carried.
    expect(await db.tx(async (tx) => tx.carried<string[]>('test:learned', () => []))).toEqual([]);
  });

  test('runs again once only; any other failure fails the transaction at once', async () => {
    let runs = 0;
    const again = db.tx(async (tx) => {
      runs++;
      tx.atCommit(rerunUnless(false));
    });
    await expect(again).rejects.toMatchObject({ code: RERUN.code });
    expect(runs).toBe(2);
    runs = 0;
    const failed = db.tx(async (tx) => {
      runs++;
      await tx.query(sql`INSERT INTO notes VALUES ('k-failed')`);
      tx.atCommit(sql`SELECT 1 / 0`);
    });
    await expect(failed).rejects.toMatchObject({ code: '22012' });
    expect(runs).toBe(1);
    expect(await mine()).not.toContain('k-failed');
  });
});
