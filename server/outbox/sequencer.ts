import pg from 'pg';
import { sql } from '../../db/sql.js';
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
      client.on('notification', () => this.kick());
      await client.query('LISTEN lilium_outbox');
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
    while (!this.stopped && (await this.step()) > 0);
  }

  private async step(): Promise<number> {
    const flushStock = Date.now() - this.lastStockFlush >= this.options.stockIntervalMs;
    const { rows, stockPending } = await this.deps.db.tx(async (tx) => {
      if (flushStock) {
        this.lastStockFlush = Date.now();
        await tx.query(sql`
          WITH due AS (
             DELETE FROM stock_dirty WHERE product_id IN (SELECT product_id FROM stock_dirty ORDER BY marked_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
             RETURNING product_id)
           INSERT INTO outbox (rooms, event, data)
           SELECT z.rooms, 'stock:changed', jsonb_build_object('productId', p.id, 'stock', p.stock, 'price', p.price_minor)
             FROM due JOIN products p ON p.id = due.product_id
             CROSS JOIN LATERAL (SELECT array_agg('zone:' || pz.zone_id ORDER BY pz.zone_id) AS rooms FROM product_zones pz WHERE pz.product_id = p.id) z
            WHERE z.rooms IS NOT NULL`);
      }
      const pending = await tx.query<Pending>(sql`SELECT id, rooms, event, data, at FROM outbox WHERE seq IS NULL ORDER BY id LIMIT ${BATCH} FOR UPDATE`);
      // Read after the rows are locked, so a twin that just finished is counted.
      const [{ top }] = (await tx.query<{ top: number }>(sql`SELECT coalesce(max(seq), 0)::bigint AS top FROM outbox`)) as [{ top: number }];
      const numbered = pending.map((r, i) => ({ ...r, seq: top + i + 1 }));
      if (numbered.length) {
        await tx.query(sql`
          UPDATE outbox SET seq = v.seq
            FROM (SELECT unnest(${numbered.map((r) => r.id)}::bigint[]) AS id, unnest(${numbered.map((r) => r.seq)}::bigint[]) AS seq) v
           WHERE outbox.id = v.id`);
      }
      const [dirty] = await tx.query<{ any: boolean }>(sql`SELECT EXISTS (SELECT 1 FROM stock_dirty) AS any`);
      return { rows: numbered, stockPending: dirty!.any };
    });
    for (const r of rows) {
      (this.deps.io.to(r.rooms) as unknown as { emit(e: string, p: unknown): void }).emit(r.event, {
        seq: r.seq,
        event: r.event,
        at: new Date(r.at).toISOString(),
        data: r.data,
      });
    }
    if (stockPending && !this.stockTimer) {
      const wait = Math.max(0, this.options.stockIntervalMs - (Date.now() - this.lastStockFlush));
      this.stockTimer = setTimeout(() => {
        this.stockTimer = undefined;
        this.kick();
      }, wait);
      this.stockTimer.unref();
    }
    return rows.length;
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
