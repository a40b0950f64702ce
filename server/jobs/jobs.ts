import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import PgBoss from 'pg-boss';
import type { DatabaseConfig } from '../../db/data-source.js';
import { sql, type Sql } from '../../db/sql.js';
import { gather, type Db, type Tx } from '../../db/tx.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

/** pg-boss keeps its tables in this schema of the same database; it creates and migrates them itself at start. */
export const JOBS_SCHEMA = 'pgboss';

export interface JobOptions {
  /** Not before this time. */
  startAfter?: Date;
  /** On a queue of policy `short`, at most one job per key waits at a time: a second send answers null. */
  singletonKey?: string;
  /** Further tries after a failure, instead of the queue's. */
  retryLimit?: number;
}

export interface JobInfo {
  id: string;
  /** 0 on the first try. */
  retryCount: number;
  /** Aborted when this node stops: a long job stops at a safe point and is tried again, here after a restart or elsewhere. */
  signal: AbortSignal;
}

export type JobHandler<T> = (data: T, job: JobInfo) => Promise<void>;
export type BatchHandler<T> = (jobs: Array<{ data: T; job: JobInfo }>) => Promise<void>;

export interface QueuePolicy {
  /** `short`: at most one waiting job per singletonKey. */
  policy?: 'standard' | 'short';
  /** Tries after the first one failed (its handler threw, or its node died and the try expired). */
  retryLimit?: number;
  /** Seconds before the first retry; each later one waits twice as long, times a random 1–2 (pg-boss's backoff with jitter). */
  retryDelayS?: number;
  /** A try still running after this long is failed, its node taken for dead, and retried (at most a day). */
  expireInS?: number;
  /** Once its tries are spent, the job is copied to this queue, whose worker settles what it left. */
  deadLetter?: string;
}

export interface Jobs {
  /**
   * Queues a job. With `ctx` it is written in that transaction (pg-boss's per-call `db`), so a rollback drops it
   * and no worker sees it before the commit; without, at once (never call that inside a transaction on PGlite).
   */
  send(ctx: Tx | null, queue: string, data: object, opts?: JobOptions): Promise<string | null>;
  /**
   * Queues several jobs, of any queues, in the caller's transaction; answers their ids in order. They are held and
   * written with the transaction's other held writes just before COMMIT (Tx.hold), every job of the transaction in
   * one pg-boss insert. No singleton keys: every job given is queued.
   */
  sendMany(ctx: Tx, jobs: Array<{ queue: string; data: object; opts?: Omit<JobOptions, 'singletonKey'> }>): Promise<string[]>;
  /**
   * Registers this node as a worker of a queue (defining the queue, with `policy` when given). A handler that
   * throws is retried per the queue's policy; a job runs once across all nodes at a time, and survives restarts.
   */
  work<T extends object>(queue: string, handler: JobHandler<T>, options?: { policy?: QueuePolicy; concurrency?: number }): Promise<void>;
  /**
   * As `work`, but each worker takes up to `batchSize` due jobs at once and its handler gets them together; they
   * complete together, and if the handler throws they are all retried. For jobs whose handler records each one's
   * outcome itself, where one fetch, one read and one completion for many save a statement or more per job.
   */
  workBatch<T extends object>(
    queue: string,
    handler: BatchHandler<T>,
    options: { batchSize: number; policy?: QueuePolicy; concurrency?: number },
  ): Promise<void>;
  /** Creates the queue if it does not exist and sets its policy. A queue must be defined on a node before it sends to it. */
  define(queue: string, policy?: QueuePolicy): Promise<void>;
}

const DEFAULT_POLICY = { policy: 'standard', retryLimit: 3, retryDelayS: 10, expireInS: 15 * 60 } as const satisfies QueuePolicy;
/** pg-boss's own connections per node on PostgreSQL: polling and maintenance, never a request's work. */
const POOL_SIZE = 3;
/** How long a stopping node lets running jobs finish; what is still running is failed, to be retried. */
const STOP_TIMEOUT_MS = 3_000;
/** A job due within this long after it was sent on this node wakes this node's workers then; later ones are found by polling. */
const WAKE_AHEAD_MS = 5 * 60_000;
/** SQLSTATE deadlock_detected. */
const DEADLOCK = '40P01';

/** Distinct pg-boss statements prepared per connection at most; it has a few dozen, so more would mean texts built per call. */
const MAX_PREPARED = 100;

/**
 * pg-boss's own pool on PostgreSQL. Its statements with parameters (the fetch, the completion, the insert) are
 * prepared on each connection and run on their generic plans: sent unnamed, as pg-boss's pool sends them, each was
 * parsed and planned anew every time, half a millisecond and more for a fetch, and a node fetches several times a
 * second. The rest (its schema's migrations, several statements at once) goes as it comes.
 */
function bossPool(url: string, log: Logger): { db: PgBoss.Db; close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE, application_name: 'lilium-jobs', options: '-c plan_cache_mode=force_generic_plan' });
  pool.on('error', (err) => log.warn({ err }, 'job queue connection lost'));
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (!name && names.size < MAX_PREPARED) names.set(text, (name = `boss_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`));
    return name;
  };
  let closed = false;
  return {
    db: {
      // Once closed it answers nothing, as pg-boss's own pool does: a job's completion may still come after stop() has waited its time.
      executeSql: async (text, values) =>
        closed ? (undefined as unknown as { rows: unknown[] }) : pool.query(values?.length ? { text, values, name: nameOf(text) } : text),
    },
    close: () => {
      closed = true;
      return pool.end();
    },
  };
}

/** pg-boss's per-call connection: the caller's transaction. */
const inTx = (ctx: Tx) => ({ executeSql: async (text: string, values: unknown[]) => ({ rows: await ctx.query(sql.numbered(text, values)) }) });

type QueueStats = Map<string, { queued: number; oldestS: number }>;

/**
 * The durable job queue: pg-boss on the same database, PostgreSQL or embedded PGlite. On PostgreSQL pg-boss has a
 * small pool of its own; on PGlite its statements go through `Db.run`, which waits for the single session like
 * every transaction does. Workers poll every JOBS_POLL_MS, and a job sent on this node wakes its workers at once
 * after the commit (or when it falls due), so a single node never waits for a poll.
 */
export class PgBossJobs implements Jobs {
  private readonly boss: PgBoss;
  private readonly defined = new Set<string>();
  private readonly workers = new Map<string, string[]>();
  /** Per queue, which of its workers this node wakes next; and the workers running a handler now. */
  private readonly turns = new Map<string, number>();
  private readonly busy = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly stopping = new AbortController();
  private stats: QueueStats = new Map();
  private statsTimer: NodeJS.Timeout | null = null;
  /** pg-boss's connections on PostgreSQL (on PGlite it shares the single session). */
  private readonly ownPool: { db: PgBoss.Db; close(): Promise<void> } | null;
  /** pg-boss's insert statement and its parameters after the first (the jobs), taken from pg-boss at start. */
  private insertCommand: { text: string; rest: unknown[] } | null = null;

  constructor(
    private readonly config: Config['jobs'],
    database: DatabaseConfig,
    db: Db,
    private readonly log: Logger,
    metrics: Metrics,
  ) {
    const common: PgBoss.ConstructorOptions = {
      schema: JOBS_SCHEMA,
      // No cron schedules: jobs carry a start time and deadlines are swept from their checkouts, so the clock-skew
      // checks and the cron queue are not needed.
      schedule: false,
      supervise: true,
      maintenanceIntervalSeconds: config.maintenanceS,
      pollingIntervalSeconds: config.pollMs / 1000,
    };
    this.ownPool = database.kind === 'postgres' ? bossPool(database.url, log) : null;
    this.boss = new PgBoss({ ...common, db: this.ownPool?.db ?? { executeSql: (text, values) => db.run(text, values) } });
    this.boss.on('error', (err) => log.warn({ err }, 'job queue error'));
    const read = (pick: (s: { queued: number; oldestS: number }) => number) => () =>
      Object.fromEntries([...this.defined].map((q) => [q, pick(this.stats.get(q) ?? { queued: 0, oldestS: 0 })]));
    metrics.gauge(
      'lilium_jobs_queued',
      'Jobs waiting per queue (due or not yet), refreshed every JOBS_METRICS_S.',
      read((s) => s.queued),
      'queue',
    );
    metrics.gauge(
      'lilium_jobs_oldest_age_seconds',
      'How long the oldest due job of each queue has waited to start.',
      read((s) => s.oldestS),
      'queue',
    );
  }

  /** Installs or migrates pg-boss's schema (under its own advisory lock, so nodes may start together) and starts maintenance. */
  async start(): Promise<void> {
    await this.boss.start();
    // pg-boss's own insert, as pg-boss sends it (defaults from its config): captured here, it runs as part of a held write.
    await this.boss.insert([], {
      db: {
        executeSql: async (text: string, values: unknown[]) => {
          this.insertCommand = { text, rest: values.slice(1) };
          return { rows: [] };
        },
      },
    });
    await this.refreshStats();
    this.statsTimer = setInterval(() => void this.refreshStats(), this.config.metricsS * 1000);
    this.statsTimer.unref();
  }

  async define(queue: string, policy: QueuePolicy = {}): Promise<void> {
    const p = { ...DEFAULT_POLICY, ...policy };
    if (p.deadLetter && !this.defined.has(p.deadLetter)) await this.define(p.deadLetter);
    const options: PgBoss.Queue = {
      name: queue,
      policy: p.policy,
      retryLimit: p.retryLimit,
      retryDelay: p.retryDelayS,
      retryBackoff: true,
      expireInSeconds: p.expireInS,
      ...(p.deadLetter ? { deadLetter: p.deadLetter } : {}),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.boss.createQueue(queue, options);
        // A queue made by an earlier version takes the policy the code says now.
        await this.boss.updateQueue(queue, options);
        break;
      } catch (err) {
        // Nodes starting together create queues at once; each creation attaches a table to pg-boss's own, and two can
        // deadlock. The one PostgreSQL chose to fail tries again, and finds its queue made or makes it.
        if ((err as { code?: string }).code !== DEADLOCK || attempt >= 8) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
      }
    }
    this.defined.add(queue);
  }

  async send(ctx: Tx | null, queue: string, data: object, opts: JobOptions = {}): Promise<string | null> {
    if (!this.defined.has(queue)) throw new Error(`job queue ${queue} is not defined on this node (jobs.define or jobs.work first)`);
    // pg-boss checks every option it is given, so only those set are passed.
    const options: PgBoss.SendOptions = {
      ...(opts.startAfter ? { startAfter: opts.startAfter } : {}),
      ...(opts.singletonKey ? { singletonKey: opts.singletonKey } : {}),
      ...(opts.retryLimit !== undefined ? { retryLimit: opts.retryLimit } : {}),
    };
    if (!ctx) {
      const id = await this.boss.send(queue, data, options);
      this.wake(queue, opts.startAfter);
      return id;
    }
    const id = await this.boss.send(queue, data, { ...options, db: inTx(ctx) });
    ctx.afterCommit(() => this.wake(queue, opts.startAfter));
    return id;
  }

  async sendMany(ctx: Tx, jobs: Array<{ queue: string; data: object; opts?: Omit<JobOptions, 'singletonKey'> }>): Promise<string[]> {
    if (jobs.length === 0) return [];
    for (const { queue } of jobs)
      if (!this.defined.has(queue)) throw new Error(`job queue ${queue} is not defined on this node (jobs.define or jobs.work first)`);
    // pg-boss's insert answers no ids, so the ids are chosen here; a queue not defined would drop its jobs silently, hence the check above.
    const rows: PgBoss.JobInsert[] = jobs.map(({ queue, data, opts = {} }) => ({
      id: randomUUID(),
      name: queue,
      data,
      ...(opts.startAfter ? { startAfter: opts.startAfter } : {}),
      ...(opts.retryLimit !== undefined ? { retryLimit: opts.retryLimit } : {}),
    }));
    // Gathered under this instance: every job of the transaction, of any queue, in one insert.
    gather(ctx, this, rows, (all) => ({ write: this.insertStatement(all) }));
    ctx.afterCommit(() => jobs.forEach(({ queue, opts }) => this.wake(queue, opts?.startAfter)));
    return rows.map((r) => r.id!);
  }

  /** pg-boss's insert of these jobs, as a fragment (see sql.numbered). */
  private insertStatement(rows: PgBoss.JobInsert[]): Sql {
    if (!this.insertCommand) throw new Error('the job queue is not started');
    return sql.numbered(this.insertCommand.text, [JSON.stringify(rows), ...this.insertCommand.rest]);
  }

  async work<T extends object>(queue: string, handler: JobHandler<T>, options: { policy?: QueuePolicy; concurrency?: number } = {}): Promise<void> {
    if (options.policy || !this.defined.has(queue)) await this.define(queue, options.policy);
    const ids = this.workers.get(queue) ?? [];
    for (let i = 0; i < (options.concurrency ?? 1); i++) {
      const id: string = await this.boss.work<T>(queue, { includeMetadata: true, batchSize: 1 }, ([job]) =>
        this.busyWhile(id, () => this.run(queue, handler, job!)),
      );
      ids.push(id);
    }
    this.workers.set(queue, ids);
  }

  async workBatch<T extends object>(
    queue: string,
    handler: BatchHandler<T>,
    options: { batchSize: number; policy?: QueuePolicy; concurrency?: number },
  ): Promise<void> {
    if (options.policy || !this.defined.has(queue)) await this.define(queue, options.policy);
    const ids = this.workers.get(queue) ?? [];
    for (let i = 0; i < (options.concurrency ?? 1); i++) {
      const id: string = await this.boss.work<T>(queue, { includeMetadata: true, batchSize: options.batchSize }, (jobs) =>
        this.busyWhile(id, async () => {
          try {
            await handler(jobs.map((job) => ({ data: job.data, job: { id: job.id, retryCount: job.retryCount, signal: this.stopping.signal } })));
          } catch (err) {
            this.log.warn({ err, queue, jobIds: jobs.map((j) => j.id) }, 'job batch failed; its queue retries its jobs while tries are left');
            throw err;
          }
        }),
      );
      ids.push(id);
    }
    this.workers.set(queue, ids);
  }

  /** Runs a worker's handler, known as busy meanwhile (see wake). */
  private async busyWhile(workerId: string, fn: () => Promise<void>): Promise<void> {
    this.busy.add(workerId);
    try {
      await fn();
    } finally {
      this.busy.delete(workerId);
    }
  }

  private async run<T>(queue: string, handler: JobHandler<T>, job: PgBoss.JobWithMetadata<T>): Promise<void> {
    try {
      await handler(job.data, { id: job.id, retryCount: job.retryCount, signal: this.stopping.signal });
    } catch (err) {
      this.log.warn({ err, queue, jobId: job.id, retryCount: job.retryCount }, 'job failed; its queue retries it while tries are left');
      throw err;
    }
  }

  /**
   * Wakes one of this node's workers of a queue now, or when a job sent here falls due: the next idle one in turn,
   * so a burst of sends spreads over them. One is enough for the job (or the batch) that was sent, and waking every
   * worker made each fetch for it, all but one finding nothing: on a busy node, a statement per worker per commit. A
   * worker woken while busy fetches again as soon as it is done; the others still poll.
   */
  private wake(queue: string, at?: Date): void {
    const ids = this.workers.get(queue);
    if (!ids?.length || this.stopping.signal.aborted) return;
    const notify = () => {
      const turn = this.turns.get(queue) ?? 0;
      // The next idle one in turn, else the next in turn (it fetches once it is done).
      const k = ids.findIndex((_, i) => !this.busy.has(ids[(turn + i) % ids.length]!));
      const pick = (turn + Math.max(k, 0)) % ids.length;
      this.turns.set(queue, (pick + 1) % ids.length);
      this.boss.notifyWorker(ids[pick]!);
    };
    const delay = at ? at.getTime() - Date.now() : 0;
    if (delay <= 0) return notify();
    if (delay > WAKE_AHEAD_MS) return;
    // pg-boss takes jobs whose start time is strictly past; a little later keeps the wake-up from coming too early.
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      notify();
    }, delay + 20);
    timer.unref();
    this.timers.add(timer);
  }

  private async refreshStats(): Promise<void> {
    try {
      const { rows } = await this.boss.getDb().executeSql(
        `SELECT name, count(*)::int AS queued,
                coalesce(extract(epoch FROM now() - min(start_after) FILTER (WHERE start_after <= now())), 0)::float8 AS oldest
           FROM ${JOBS_SCHEMA}.job WHERE state < 'active' GROUP BY name`,
        [],
      );
      this.stats = new Map((rows as Array<{ name: string; queued: number; oldest: number }>).map((r) => [r.name, { queued: r.queued, oldestS: r.oldest }]));
    } catch (err) {
      this.log.warn({ err }, 'job queue statistics not refreshed');
    }
  }

  /** Stops taking jobs, tells running ones to stop at a safe point, waits a little for them, and fails the rest (to be retried). */
  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.statsTimer) clearInterval(this.statsTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    try {
      await this.boss.stop({ graceful: true, wait: true, close: true, timeout: STOP_TIMEOUT_MS });
    } finally {
      await this.ownPool?.close();
    }
  }
}
