import { pushes, type PushDataOf, type PushName, type Pushes } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import type { TxCtx } from '../rpc/context.js';

type StoredPush = { [P in PushName]: Pushes[P]['stored'] extends true ? P : never }[PushName];
type LivePush = Exclude<PushName, StoredPush>;

// Keyed by the transaction's after-commit hook, which every context bound to it shares.
const announced = new WeakSet<TxCtx['afterCommit']>();

/** Wakes the sequencer once this transaction commits: directly on this node, by NOTIFY on the others. */
async function announce(ctx: TxCtx): Promise<void> {
  if (announced.has(ctx.afterCommit)) return;
  announced.add(ctx.afterCommit);
  if (ctx.deps.db.kind === 'postgres') await ctx.query(sql`SELECT pg_notify('lilium_outbox', '')`);
  ctx.afterCommit(() => ctx.deps.sequencer.kick());
}

/** A stored push: an outbox row in the caller's transaction, published with its seq only after commit. */
async function store(ctx: TxCtx, rooms: string[], event: StoredPush, data: unknown): Promise<void> {
  await ctx.query(sql`INSERT INTO outbox (rooms, event, data) VALUES (${rooms}, ${event}, ${JSON.stringify(data)})`);
  await announce(ctx);
}

/**
 * Stored pushes of one event, each with its own data to its own room, in one statement: a notification to each of
 * many recipients costs one round trip, not one per recipient.
 */
export async function tellEach<P extends StoredPush>(ctx: TxCtx, event: P, items: Array<{ room: string; data: PushDataOf<P> }>): Promise<void> {
  if (items.length === 0) return;
  await ctx.query(sql`
    INSERT INTO outbox (rooms, event, data)
    SELECT ARRAY[i.room], ${event}, i.data::jsonb FROM unnest(${items.map((i) => i.room)}::text[], ${items.map((i) => JSON.stringify(i.data))}::text[]) AS i(room, data)`);
  await announce(ctx);
}

/**
 * Stock pushes are coalesced: the change marks the product, and the sequencer pushes its latest level.
 * An existing mark is locked (DO UPDATE, not DO NOTHING) until this transaction commits, so the
 * sequencer's SKIP LOCKED flush cannot take the mark away while reading the level from before it.
 */
export async function markStockChanged(ctx: TxCtx, productIds: string[]): Promise<void> {
  if (productIds.length === 0) return;
  await ctx.query(sql`
    INSERT INTO stock_dirty (product_id) SELECT DISTINCT id FROM unnest(${productIds}::uuid[]) AS id ORDER BY id
    ON CONFLICT (product_id) DO UPDATE SET marked_at = stock_dirty.marked_at`);
  await announce(ctx);
}

/**
 * The one way a service tells clients. A stored push (a committed change) becomes an outbox row in
 * the caller's transaction and is published with its seq after commit; a live-only push (progress,
 * locations, a cart on another device) is emitted once the transaction commits. Either way a
 * rollback tells nobody, and no service touches `io`. A live-only push may leave out one socket (`except`): the
 * one whose own call made the change and has it in its answer.
 */
export async function tell<P extends PushName>(
  ctx: TxCtx,
  rooms: string[],
  event: P,
  data: PushDataOf<P>,
  opts: { except?: string | null } = {},
): Promise<void> {
  if (rooms.length === 0) return;
  if (pushes[event].stored) return store(ctx, rooms, event as StoredPush, data);
  const to = opts.except ? ctx.deps.io.to(rooms).except(opts.except) : ctx.deps.io.to(rooms);
  ctx.afterCommit(() => void to.emit(event as LivePush, ...([data] as never)));
}
