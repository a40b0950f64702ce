import { pushes, type PushDataOf, type PushName, type Pushes } from '../../protocol/index.js';
import { sql, type Sql } from '../../db/sql.js';
import type { TxCtx } from '../rpc/context.js';

type StoredPush = { [P in PushName]: Pushes[P]['stored'] extends true ? P : never }[PushName];
type LivePush = Exclude<PushName, StoredPush>;

// Keyed by the transaction's after-commit hook, which every context bound to it shares.
const announced = new WeakSet<TxCtx['afterCommit']>();

/**
 * Runs a statement that writes outbox rows or stock marks, and wakes the sequencer once this transaction commits:
 * directly on this node, by NOTIFY on the others. `build` puts `wake` in its select list: the NOTIFY on the
 * transaction's first such statement (on PostgreSQL), else nothing, so the wake-up costs no round trip of its own.
 */
export async function announcing<T>(ctx: TxCtx, build: (wake: Sql) => Sql): Promise<T[]> {
  const first = !announced.has(ctx.afterCommit);
  if (first) {
    announced.add(ctx.afterCommit);
    ctx.afterCommit(() => ctx.deps.sequencer.kick());
  }
  return ctx.query<T>(build(first && ctx.deps.db.kind === 'postgres' ? sql`(SELECT pg_notify('lilium_outbox', ''))` : sql`NULL`));
}

/** Marks products whose level changed (see markStockChanged), as a statement to run inside `announcing`; `ids` selects their distinct ids. */
export const stockMarks = (ids: Sql) =>
  sql`INSERT INTO stock_dirty (product_id) SELECT p.id FROM (${ids}) AS p(id) ORDER BY p.id
      ON CONFLICT (product_id) DO UPDATE SET marked_at = stock_dirty.marked_at`;

/** A statement that writes and wakes (see announcing). */
const written = (write: Sql) => (wake: Sql) => sql`WITH written AS (${write}) SELECT ${wake} AS woke`;

/** Runs several writes, outbox rows among them, as one statement that wakes the sequencer (see announcing). */
export async function writeAnnounced(ctx: TxCtx, writes: Sql[]): Promise<void> {
  await announcing(ctx, (wake) => sql`WITH ${sql.join(writes.map((w, i) => sql`${sql.raw(`w${i}`)} AS (${w})`))} SELECT ${wake} AS woke`);
}

/** A stored push: an outbox row in the caller's transaction, published with its seq only after commit. */
async function store(ctx: TxCtx, rooms: string[], event: StoredPush, data: unknown): Promise<void> {
  await announcing(ctx, written(sql`INSERT INTO outbox (rooms, event, data) VALUES (${rooms}, ${event}, ${JSON.stringify(data)})`));
}

/**
 * Stored pushes of one event, each with its own data to its own rooms, in one statement: a notification to each of
 * many recipients costs one round trip, not one per recipient.
 */
export async function tellMany<P extends StoredPush>(ctx: TxCtx, event: P, items: Array<{ rooms: string[]; data: PushDataOf<P> }>): Promise<void> {
  const write = pushRows(event, items);
  if (write) await announcing(ctx, written(write));
}

/**
 * The outbox rows of stored pushes of one event, as a statement for writeAnnounced (null when there are none), so
 * they can share a round trip with other writes.
 */
export function pushRows<P extends StoredPush>(event: P, items: Array<{ rooms: string[]; data: PushDataOf<P> }>): Sql | null {
  const sent = items.filter((i) => i.rooms.length > 0);
  if (sent.length === 0) return null;
  // Rooms travel as one JSON array per push: unnest would flatten a two-dimensional array.
  return sql`INSERT INTO outbox (rooms, event, data)
             SELECT ARRAY(SELECT jsonb_array_elements_text(i.rooms::jsonb)), ${event}, i.data::jsonb
               FROM unnest(${sent.map((i) => JSON.stringify(i.rooms))}::text[], ${sent.map((i) => JSON.stringify(i.data))}::text[]) WITH ORDINALITY AS i(rooms, data, k)
              ORDER BY i.k`;
}

/**
 * Stock pushes are coalesced: the change marks the product, and the sequencer pushes its latest level.
 * An existing mark is locked (DO UPDATE, not DO NOTHING) until this transaction commits, so the
 * sequencer's SKIP LOCKED flush cannot take the mark away while reading the level from before it.
 */
export async function markStockChanged(ctx: TxCtx, productIds: string[]): Promise<void> {
  if (productIds.length === 0) return;
  await announcing(ctx, written(stockMarks(sql`SELECT DISTINCT id FROM unnest(${productIds}::uuid[]) AS id`)));
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
