import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { sql, type Sql } from '../../db/sql.js';
import type { OutboxRow } from '../../db/tables.js';
import type { Deps } from '../deps.js';

const LEADER_LOCK = 7462002;
const BATCH = 500;

type Pending = Pick<OutboxRow, 'id' | 'rooms' | 'event' | 'data' | 'at'>;

export interface SequencerOptions {
  /** At most one stock:changed per product per interval. */
  stockIntervalMs: number;
  /** How often to look for work anyway (a missed NOTIFY, a lost leader). */
  pollMs: number;
}

/**
 * Gives committed outbox rows their seq and publishes them, in seq order. Exactly one node
 * sequences at a time (the holder of an advisory lock; PGlite is a single node), so seq order is
 * the order in which rows became visible: a transaction that commits late gets a later seq, and a
 * client that has seen seq N can never miss an event numbered below N.
 */
export class Sequencer {
  private leader = false;
  private running = false;
  private again = false;
  private lastStockFlush = 0;
  private stockTimer: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private lockClient: pg.Client | null = null;
  private stopped = false;
  /** Names this node in the NOTIFY its commits send (see Deps.sequencer). */
  readonly origin = randomUUID();

  constructor(
    private readonly deps: Pick<Deps, 'db' | 'io' | 'log' | 'config'>,
    private readonly options: SequencerOptions,
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  async start(): Promise<void> {
    if (this.deps.db.kind === 'pglite') this.leader = true;
    else await this.tryLead();
    this.poller = setInterval(() => {
      if (!this.leader) void this.tryLead();
      this.kick();
    }, this.options.pollMs);
    this.poller.unref();
    this.kick();
  }

  private async tryLead(): Promise<void> {
    const { database } = this.deps.config;
    if (database.kind !== 'postgres' || this.lockClient || this.stopped) return;
    const client = new pg.Client({ connectionString: database.url, application_name: 'lilium-sequencer' });
    const lose = () => {
      this.leader = false;
      if (this.lockClient === client) this.lockClient = null;
    };
    client.on('error', (err) => {
      this.deps.log.warn({ err: err.message }, 'sequencer connection lost');
      lose();
    });
    client.on('end', lose);
    try {
      await client.connect();
      const [row] = (await client.query<{ ok: boolean }>(sql`SELECT pg_try_advisory_lock(${LEADER_LOCK}) AS ok`.compile())).rows;
      if (!row?.ok) {
        await client.end();
        return;
      }
      // This node's own commits kicked it directly (outbox.ts): only another node's wake it here.
      client.on('notification', (n) => {
        if (n.payload !== this.origin) this.kick();
      });
      await client.query('LISTEN lilium_outbox');
      // Unnumbered rows are found by walking outbox_unsequenced_idx in id order. The planner would rather gather every
      // entry with seq NULL into a bitmap, but entries of rows numbered since stay in the indexes until a vacuum, so that
      // read grows with the outbox (800 pages per step after 1,500 checkouts); an index scan marks those entries dead
      // as it passes them and the next step skips them (~50 pages).
      await client.query('SET enable_bitmapscan = off');
      this.lockClient = client;
      this.leader = true;
      this.deps.log.info('this node sequences the outbox');
      this.kick();
    } catch (err) {
      this.deps.log.warn({ err }, 'sequencer could not take the lead');
      await client.end().catch(() => undefined);
    }
  }

  /** Runs a drain now, or right after the one in progress. */
  kick(): void {
    if (!this.leader || this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.drain()
      .catch((err: unknown) => this.deps.log.error({ err }, 'sequencer step failed'))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async drain(): Promise<void> {
    // A full batch may leave more behind; anything committed after a step's snapshot kicks again.
    while (!this.stopped && (await this.step()) >= BATCH);
  }

  /**
   * On PostgreSQL every sequencing statement runs on the connection that holds the leader lock, in autocommit: no
   * wait for a pool connection behind the calls it publishes for, and no twin. A node that loses the lock loses it
   * with that session, which ends any statement still open on it, so at most one sequencer ever writes seq and one
   * statement can read the top and number the rows. PGlite has a single session and a single node.
   */
  private async run<T>(statement: Sql): Promise<T[]> {
    if (this.deps.db.kind === 'pglite') return this.deps.db.query<T>(statement);
    const client = this.lockClient;
    if (!client || !this.leader) return [];
    return (await client.query(statement.compile())).rows as T[];
  }

  /**
   * One step, one statement: every visible unnumbered row numbered after the top seq, then (at most once per interval)
   * the stock levels due written as rows numbered after those, all returned in seq order to publish. Stock rows are
   * written with their seq rather than left for the next step, so a stock change reaches its room one round trip after
   * the commit that made it. The answer says whether stock marks wait (the ones this step did not take); the outer join
   * answers a row even when nothing was numbered.
   */
  private async step(): Promise<number> {
    const flushStock = Date.now() - this.lastStockFlush >= this.options.stockIntervalMs;
    if (flushStock) this.lastStockFlush = Date.now();
    const result = await this.run<Pending & { seq: number | null; stock: boolean; numbered: number }>(
      sql`
      WITH top AS (SELECT coalesce(max(seq), 0)::bigint AS top FROM outbox),
           due AS (SELECT id, row_number() OVER (ORDER BY id) AS k FROM (SELECT id FROM outbox WHERE seq IS NULL ORDER BY id LIMIT ${BATCH}) u),
           numbered AS (
             UPDATE outbox o SET seq = top.top + due.k FROM due, top WHERE o.id = due.id
             RETURNING o.id, o.seq, o.rooms, o.event, o.data, o.at),
           marks AS (
             DELETE FROM stock_dirty
              WHERE ${flushStock} AND product_id IN (SELECT product_id FROM stock_dirty ORDER BY marked_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
             RETURNING product_id),
           levels AS (
             SELECT z.rooms, jsonb_build_object('productId', p.id, 'stock', p.stock, 'price', p.price_minor) AS data,
                    row_number() OVER (ORDER BY p.id) AS k
               FROM marks JOIN products p ON p.id = marks.product_id
              CROSS JOIN LATERAL (SELECT array_agg('zone:' || pz.zone_id ORDER BY pz.zone_id) AS rooms FROM product_zones pz WHERE pz.product_id = p.id) z
              WHERE z.rooms IS NOT NULL),
           stocked AS (
             INSERT INTO outbox (rooms, event, data, seq)
             SELECT l.rooms, 'stock:changed', l.data, top.top + (SELECT count(*) FROM due) + l.k FROM levels l, top
             RETURNING id, seq, rooms, event, data, at),
           published AS (SELECT * FROM numbered UNION ALL SELECT * FROM stocked)
      SELECT n.*, (SELECT count(*) FROM due)::int AS numbered,
             EXISTS (SELECT 1 FROM stock_dirty d WHERE d.product_id NOT IN (SELECT product_id FROM marks)) AS stock
        FROM (SELECT 1) one LEFT JOIN published n ON true ORDER BY n.seq`.prepared(),
    );
    const rows = result.filter((r): r is typeof r & { seq: number } => r.seq !== null);
    for (const r of rows) {
      (this.deps.io.to(r.rooms) as unknown as { emit(e: string, p: unknown): void }).emit(r.event, {
        seq: r.seq,
        event: r.event,
        at: new Date(r.at).toISOString(),
        data: r.data,
      });
    }
    if (result[0]?.stock && !this.stockTimer) {
      const wait = Math.max(0, this.options.stockIntervalMs - (Date.now() - this.lastStockFlush));
      this.stockTimer = setTimeout(() => {
        this.stockTimer = undefined;
        this.kick();
      }, wait);
      this.stockTimer.unref();
    }
    // A full batch may leave unnumbered rows behind; stock marks left behind wait for their timer.
    return result[0]?.numbered ?? 0;
  }

  /** Drops stored pushes older than the feed keeps them. */
  async prune(days: number): Promise<void> {
    if (this.leader) await this.deps.db.query(sql`DELETE FROM outbox WHERE at < now() - make_interval(days => ${days}) AND seq IS NOT NULL`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poller);
    clearTimeout(this.stockTimer);
    while (this.running) await new Promise((r) => setTimeout(r, 5));
    this.leader = false;
    await this.lockClient?.end().catch(() => undefined);
  }
}
