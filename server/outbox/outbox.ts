import { pushes, type PushDataOf, type PushName, type Pushes } from '../../protocol/index.js';
import { sql, type Sql } from '../../db/sql.js';
import { gather } from '../../db/tx.js';
import type { TxCtx } from '../rpc/context.js';

type StoredPush = { [P in PushName]: Pushes[P]['stored'] extends true ? P : never }[PushName];
type LivePush = Exclude<PushName, StoredPush>;

// Keyed by the transaction's after-commit hook, which every context bound to it shares.
const announced = new WeakSet<TxCtx['afterCommit']>();

/**
 * Wakes the sequencer once this transaction commits: directly on this node, by NOTIFY on the others. Answers the
 * NOTIFY for the select list of the transaction's first statement that writes outbox rows or stock marks (on
 * PostgreSQL; null after the first, or on PGlite), so the wake-up costs no round trip of its own.
 */
function wakeOf(ctx: TxCtx): Sql | null {
  if (announced.has(ctx.afterCommit)) return null;
  announced.add(ctx.afterCommit);
  ctx.afterCommit(() => ctx.deps.sequencer.kick());
  return ctx.deps.db.kind === 'postgres' ? sql`(SELECT pg_notify('lilium_outbox', ${ctx.deps.sequencer.origin}))` : null;
}

/** Runs a statement that writes stock marks (or outbox rows) now, waking the sequencer after commit: `build` puts `wake` in its select list. */
export async function announcing<T>(ctx: TxCtx, build: (wake: Sql) => Sql): Promise<T[]> {
  return ctx.query<T>(withWake(ctx, build));
}

/** The statement `announcing` runs, for a caller that sends it at commit (Tx.atCommit). */
export const withWake = (ctx: TxCtx, build: (wake: Sql) => Sql): Sql => build(wakeOf(ctx) ?? sql`NULL`);

/** Marks products whose level changed (see markStockChanged), as a statement to run inside `announcing`; `ids` selects their distinct ids. */
export const stockMarks = (ids: Sql) =>
  sql`INSERT INTO stock_dirty (product_id) SELECT p.id FROM (${ids}) AS p(id) ORDER BY p.id
      ON CONFLICT (product_id) DO UPDATE SET marked_at = stock_dirty.marked_at`;

type HeldPush = { rooms: string[]; event: StoredPush; data: unknown };
/** What the stored pushes of a transaction are gathered under (db/tx.ts gather). */
const PUSHES = {};

/**
 * Holds stored pushes, each with its own data to its own rooms, for the statement the transaction sends just before
 * COMMIT (Tx.hold), and wakes the sequencer after commit. Nothing in a transaction reads its own outbox rows back, so
 * they wait: all the pushes of a transaction are one INSERT, with its other held writes in one round trip. One
 * INSERT, not one per push, because its rows take their ids (and so their seq) in the order told, while separate
 * writes of one statement run in no set order.
 */
export function holdPushes<P extends StoredPush>(ctx: TxCtx, event: P, items: Array<{ rooms: string[]; data: PushDataOf<P> }>): void {
  const sent = items.filter((i) => i.rooms.length > 0).map((i) => ({ rooms: i.rooms, event, data: i.data }));
  if (sent.length === 0) return;
  gather<HeldPush>(ctx, PUSHES, sent, (all) => ({ write: pushRows(all) }));
  const wake = wakeOf(ctx);
  if (wake) ctx.hold(() => ({ select: wake }));
}

/** The outbox rows of stored pushes, in order. Rooms travel as one JSON array per push: unnest would flatten a two-dimensional array. */
function pushRows(rows: HeldPush[]): Sql {
  return sql`INSERT INTO outbox (rooms, event, data)
             SELECT ARRAY(SELECT jsonb_array_elements_text(i.rooms::jsonb)), i.event, i.data::jsonb
               FROM unnest(${rows.map((r) => JSON.stringify(r.rooms))}::text[], ${rows.map((r) => r.event)}::text[],
                           ${rows.map((r) => JSON.stringify(r.data))}::text[]) WITH ORDINALITY AS i(rooms, event, data, k)
              ORDER BY i.k`;
}

/**
 * Stock pushes are coalesced: the change marks the product, and the sequencer pushes its latest level.
 * An existing mark is locked (DO UPDATE, not DO NOTHING) until this transaction commits, so the
 * sequencer's SKIP LOCKED flush cannot take the mark away while reading the level from before it.
 */
export async function markStockChanged(ctx: TxCtx, productIds: string[]): Promise<void> {
  if (productIds.length === 0) return;
  await announcing(
    ctx,
    (wake) => sql`WITH written AS (${stockMarks(sql`SELECT DISTINCT id FROM unnest(${productIds}::uuid[]) AS id`)}) SELECT ${wake} AS woke`,
  );
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
  if (pushes[event].stored) return holdPushes(ctx, event as StoredPush, [{ rooms, data: data as never }]);
  const to = opts.except ? ctx.deps.io.to(rooms).except(opts.except) : ctx.deps.io.to(rooms);
  ctx.afterCommit(() => void to.emit(event as LivePush, ...([data] as never)));
}
