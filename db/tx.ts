import pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { pipeline, type Answer, type Compiled } from './pipeline.js';
import { Sql, sql } from './sql.js';

type Hook = () => void | Promise<void>;
/** The parts of pg's Pool this module uses (TypeORM's driver holds it as `master`). */
type PgResult = { rows: unknown[] };
type PgPool = {
  connect(): Promise<pg.PoolClient>;
  query(config: { text: string; values?: unknown[]; name?: string }): Promise<unknown>;
  totalCount: number;
  idleCount: number;
  waitingCount: number;
};

/**
 * Rows of a query through TypeORM (PGlite, and pg-boss's batches), whatever the statement: TypeORM answers
 * `[rows, count]` for UPDATE and DELETE on pg (so `UPDATE … RETURNING` would look like one row), and plain rows on PGlite.
 */
async function queryRows<T>(manager: EntityManager, statement: Sql | string, params?: unknown[]): Promise<T[]> {
  const { text, values } = statement instanceof Sql ? statement.compile() : { text: statement, values: params };
  const res: unknown = await manager.query(text, values);
  if (Array.isArray(res) && res.length === 2 && Array.isArray(res[0]) && typeof res[1] === 'number') return res[0] as T[];
  return (res ?? []) as T[];
}

/** Runs statements: inside a transaction when it is one, else each on its own. */
export interface Reader {
  query<T = Record<string, unknown>>(statement: Sql): Promise<T[]>;
}

/** A unit of work: the statements of one open transaction and what to do once it has committed. */
export interface Tx extends Reader {
  /** Runs after the outermost transaction commits; never for one that rolls back. */
  afterCommit(hook: Hook): void;
  /**
   * Holds a write until the outermost transaction's work is done, then sends it with every other held write as one
   * statement just before COMMIT (see Held): rows nothing in the transaction reads back (pushes, jobs, a key's
   * result) cost one round trip together instead of one each. `build` runs then, so it can gather what was held.
   */
  hold(build: () => Held | null): void;
  /**
   * Sends `statement` in the transaction's last round trip, ahead of the held writes and COMMIT, and answers nothing:
   * for a statement whose row locks other transactions queue for (the stock of popular products), which it then
   * holds only while the commit runs instead of across a round trip to this process and back. Having no caller to
   * answer, it checks its own outcome: one that needs its caller (a shortage to report, a notice to write) fails with
   * RERUN, and the whole transaction runs once more with `rerun` set, in which its caller sends it where it stands and
   * reads the answer. Other failures fail the transaction, as a held write's do.
   */
  atCommit(statement: Sql): void;
  /** Whether this is the transaction's second run, after a statement sent at commit failed with RERUN (or runAgain). */
  readonly rerun: boolean;
  /**
   * What the transaction's runs share, under `key` (made by `init` on first use): what a first run learned before it
   * ended in runAgain, for the second to start from. The one value for the whole transaction, nested work included.
   */
  carried<T>(key: string, init: () => T): T;
}

/**
 * The SQLSTATE (of class LL, Lilium's own: migration 1764200700000) with which a statement sent at commit asks for
 * its transaction to run again (Tx.atCommit).
 */
export const RERUN = { code: 'LL002', message: 'the transaction runs again with its statements sent at commit answered' } as const;

/**
 * Ends the first run of a transaction so that it runs once more with `rerun` set, as a RERUN at commit does: for work
 * that finds it would have to take a lock out of order, and starts again holding none.
 */
export function runAgain(): never {
  throw Object.assign(new Error(RERUN.message), { code: RERUN.code });
}

/** The SQLSTATE of a database error (or any error's `code`). */
export const codeOf = (err: unknown) => (err && typeof err === 'object' && 'code' in err ? (err as { code: unknown }).code : undefined);

/** A held write (a data-modifying statement, run as a CTE) and what the final SELECT evaluates with it (a NOTIFY, say). */
export interface Held {
  write?: Sql;
  select?: Sql;
}

/** The held writes as one statement: `WITH w0 AS (…), w1 AS (…) SELECT …`; null when there is nothing to send. */
export function heldStatement(held: Held[]): Sql | null {
  const writes = held.flatMap((h) => (h.write ? [h.write] : []));
  const selects = held.flatMap((h) => (h.select ? [h.select] : []));
  if (writes.length === 0 && selects.length === 0) return null;
  const ctes = writes.length ? sql`WITH ${sql.join(writes.map((w, i) => sql`${sql.raw(`w${i}`)} AS (${w})`))} ` : sql.empty;
  // Prepared: a transaction of each kind holds the same writes, so the statement takes as many shapes as there are kinds.
  return sql`${ctes}SELECT ${selects.length ? sql.join(selects) : sql.raw('1')}`.prepared();
}

// Per open transaction (keyed by its after-commit hook, which every context bound to it shares), what each gather key holds.
const gathered = new WeakMap<Tx['afterCommit'], Map<object, unknown[]>>();

/**
 * Adds items to what this transaction holds under `key`, and answers everything held under it so far, in order. The
 * first call for a key holds `build`, which runs just before COMMIT with all of them: for writes that must be one
 * statement per transaction, an INSERT whose rows keep the order they were given in, or an upsert that would touch a
 * row twice if sent once per call.
 */
export function gather<T>(tx: Tx, key: object, items: T[], build: (all: T[]) => Held | null): T[] {
  let keys = gathered.get(tx.afterCommit);
  if (!keys) gathered.set(tx.afterCommit, (keys = new Map()));
  const all = keys.get(key) as T[] | undefined;
  if (all) {
    all.push(...items);
    return all;
  }
  const first = [...items];
  keys.set(key, first);
  tx.hold(() => (first.length ? build(first) : null));
  return first;
}

/**
 * Runs `fn` with a Tx whose statements go through `send`, then hands the statements it sent at commit and its held
 * writes to `end` (which commits them, with the transaction, on PostgreSQL); `hooks` collects what runs after the commit.
 */
async function work<T>(
  fn: (tx: Tx) => Promise<T>,
  rerun: boolean,
  carried: Map<string, unknown>,
  hooks: Hook[],
  send: (statement: Sql) => Promise<unknown[]>,
  end: (last: Sql[]) => Promise<void>,
): Promise<T> {
  const builds: Array<() => Held | null> = [];
  const atCommit: Sql[] = [];
  const result = await fn({
    query: <R>(statement: Sql) => send(statement) as Promise<R[]>,
    afterCommit: (hook) => void hooks.push(hook),
    hold: (build) => void builds.push(build),
    atCommit: (statement) => void atCommit.push(statement),
    rerun,
    carried: <V>(key: string, init: () => V) => {
      if (!carried.has(key)) carried.set(key, init());
      return carried.get(key) as V;
    },
  });
  const held = heldStatement(builds.flatMap((b) => b() ?? []));
  // The statements sent at commit before the held writes: the order in which other transactions take the same locks
  // (stock rows, then the held writes' counter rows), so the two never wait on each other.
  await end(held ? [...atCommit, held] : atCommit);
  return result;
}

const BEGIN = { text: 'BEGIN' };
/**
 * Sent with BEGIN: a transaction's statements are writes and reads by key or within one order, shop or vendor, whose
 * plans barely depend on the values, and PostgreSQL otherwise plans the prepared ones anew on every run (a plan made
 * for the values sees the lengths of the arrays they take, so it always looks cheaper than the generic one). Searches,
 * whose plans do depend on the values, run outside transactions and keep the default.
 */
const GENERIC_PLANS = { text: 'SET LOCAL plan_cache_mode = force_generic_plan' };
const COMMIT = { text: 'COMMIT' };

/** A statement waiting to be sent, and what its caller is waiting on. */
type Queued = { statement: Compiled; resolve: (rows: unknown[]) => void; reject: (err: unknown) => void };

/**
 * A transaction on a pooled pg connection of its own, without TypeORM's query runner. Statements issued together (in
 * the same turn of the event loop, before any of them is answered: `Promise.all`, or a call that issues its first
 * statement before its caller's is answered) go in one round trip, and so do BEGIN with the first of them and COMMIT
 * with the held writes (db/pipeline.ts): one that fails makes the server skip those behind it, which then fail with
 * its error. A transaction that sent nothing sends nothing. Whatever fails, the transaction is rolled back, and a
 * connection that failed is closed instead of going back to the pool.
 */
async function pgTransaction<T>(
  pool: PgPool,
  run: (send: (statement: Sql) => Promise<unknown[]>, end: (last: Sql[]) => Promise<void>) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  // pg-pool listens for a connection's errors only while it is idle: one that dies mid-transaction (a terminated
  // backend, a reset socket) would otherwise throw out of the process. Its statement fails anyway; the catch below
  // then drops the connection.
  const onError = () => undefined;
  client.on('error', onError);
  const release = (err?: Error) => {
    client.removeListener('error', onError);
    client.release(err);
  };
  let begun = false;
  let ended = false;
  let queued: Queued[] = [];
  /** Sends `statements` behind what is queued (and BEGIN with the plan mode, first); answers the answers of `statements`. */
  const flush = async (statements: Compiled[] = []): Promise<Answer[]> => {
    const batch = queued;
    queued = [];
    const opening = begun ? [] : [BEGIN, GENERIC_PLANS];
    const sent = [...opening, ...batch.map((q) => q.statement), ...statements];
    const first = opening.length;
    // Begun from here: a failure leaves the connection in a transaction, aborted, which the catch below rolls back.
    begun = true;
    const { answers, error } = await pipeline(client, sent);
    batch.forEach((q, i) => (answers[first + i] ? q.resolve(answers[first + i]!.rows) : q.reject(error)));
    if (error) throw error;
    return answers.slice(first + batch.length);
  };
  const send = (statement: Sql): Promise<unknown[]> => {
    // Once ended the connection is back in the pool, maybe in another's transaction.
    if (ended) return Promise.reject(new Error('a statement of a transaction that has ended'));
    return new Promise((resolve, reject) => {
      // The first of a batch sends it once the statements issued with it are queued (unless `end` took them).
      if (queued.push({ statement: statement.compile(), resolve, reject }) === 1) queueMicrotask(() => void (queued.length && flush().catch(() => undefined)));
    });
  };
  const end = async (last: Sql[]): Promise<void> => {
    ended = true;
    if (!begun && last.length === 0 && queued.length === 0) return;
    const answers = await flush([...last.map((s) => s.compile()), COMMIT]);
    begun = false;
    // PostgreSQL answers the COMMIT of a transaction a failed statement aborted with a ROLLBACK, not an error.
    if (answers.at(-1)!.command !== 'COMMIT') throw new Error('the transaction was rolled back: one of its statements failed');
  };
  try {
    const result = await run(send, end);
    release();
    return result;
  } catch (err) {
    ended = true;
    // Issued as the work failed but not yet sent: never sent now, or it would run after the ROLLBACK or the release.
    const stranded = queued;
    queued = [];
    for (const q of stranded) q.reject(err);
    if (!begun) release();
    else
      await client.query('ROLLBACK').then(
        () => release(),
        (failed: Error) => release(failed),
      );
    throw err;
  }
}

/** Connections in use and idle, and work waiting for one (the pool's size is idle + busy). */
export interface PoolStats {
  idle: number;
  busy: number;
  waiting: number;
}

/** Serialises async work: PGlite has a single session, so two open transactions would interleave on it. */
class Gate {
  private tail: Promise<unknown> = Promise.resolve();
  waiting = 0;
  busy = false;
  run<T>(fn: () => Promise<T>): Promise<T> {
    this.waiting++;
    const next = this.tail.then(async () => {
      this.waiting--;
      this.busy = true;
      try {
        return await fn();
      } finally {
        this.busy = false;
      }
    });
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export class Db {
  private readonly gate: Gate | null;

  constructor(
    readonly source: DataSource,
    readonly kind: 'postgres' | 'pglite',
    private readonly onHookError: (err: unknown) => void = () => undefined,
  ) {
    this.gate = kind === 'pglite' ? new Gate() : null;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.gate ? this.gate.run(fn) : fn();
  }

  /** Runs `fn` in a transaction, and once more when a statement it sent at commit (Tx.atCommit) or `fn` (runAgain) asks for it. */
  async tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const carried = new Map<string, unknown>();
    try {
      return await this.once(fn, false, carried);
    } catch (err) {
      // What the first run did was rolled back, its hooks with it.
      if (codeOf(err) !== RERUN.code) throw err;
      return this.once(fn, true, carried);
    }
  }

  private async once<T>(fn: (tx: Tx) => Promise<T>, rerun: boolean, carried: Map<string, unknown>): Promise<T> {
    const hooks: Hook[] = [];
    const pool = this.pool();
    const result = pool
      ? await pgTransaction(pool, (send, end) => work(fn, rerun, carried, hooks, send, end))
      : await this.exclusive(() =>
          this.source.transaction((manager) =>
            work(
              fn,
              rerun,
              carried,
              hooks,
              (statement) => queryRows(manager, statement),
              async (last) => {
                for (const statement of last) await queryRows(manager, statement);
              },
            ),
          ),
        );
    for (const hook of hooks) {
      try {
        await hook();
      } catch (err) {
        this.onHookError(err);
      }
    }
    return result;
  }

  /** Reads outside a transaction (each statement sees its own snapshot). */
  read<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.exclusive(() => fn(this.source.manager));
  }

  /**
   * One statement on its own. On PostgreSQL it goes to the pool that TypeORM made, without TypeORM's query runner:
   * a read is the hot path, and the runner's per-statement bookkeeping (a runner object, its connect and release,
   * logging hooks, result wrapping) cost more than the statement's own client work. PGlite's single session keeps
   * going through its gate.
   */
  async query<T = Record<string, unknown>>(statement: Sql | string, params?: unknown[]): Promise<T[]> {
    const pool = this.pool();
    if (!pool) return this.read((m) => queryRows(m, statement, params));
    const res = (await pool.query(statement instanceof Sql ? statement.compile() : { text: statement, values: params })) as PgResult | PgResult[];
    return ((Array.isArray(res) ? res.at(-1) : res)?.rows ?? []) as T[];
  }

  /**
   * SQL a library brings as text (pg-boss): one statement with `$n` parameters, or several without any, run as one
   * batch. It waits for its turn like every other statement, so on the embedded database it never lands inside
   * someone's open transaction; and a batch that fails after its own BEGIN is rolled back here, or the aborted
   * transaction would hold the only session.
   */
  run(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> {
    return this.exclusive(async () => {
      // One connection for the batch and its rollback: on a pool another one would not see the aborted transaction.
      const runner = this.source.createQueryRunner();
      try {
        return { rows: await queryRows(runner.manager, text, values) };
      } catch (err) {
        if (!values?.length) await runner.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        await runner.release();
      }
    });
  }

  async ping(): Promise<void> {
    await this.query(sql`SELECT 1`);
  }

  /** The pg pool TypeORM connected (none on PGlite, or before the source is initialised). */
  private pool(): PgPool | null {
    return this.gate ? null : ((this.source.driver as unknown as { master?: PgPool }).master ?? null);
  }

  poolStats(): PoolStats {
    if (this.gate) return { idle: this.gate.busy ? 0 : 1, busy: this.gate.busy ? 1 : 0, waiting: this.gate.waiting };
    const pool = this.pool();
    const total = pool?.totalCount ?? 0;
    const idle = pool?.idleCount ?? 0;
    return { idle, busy: total - idle, waiting: pool?.waitingCount ?? 0 };
  }
}
