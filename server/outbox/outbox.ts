import { pushes, type PushDataOf, type PushName, type Pushes } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import type { Tx } from '../../db/tx.js';
import type { Deps } from '../deps.js';
import type { TxCtx } from '../rpc/context.js';

type StoredPush = { [P in PushName]: Pushes[P]['stored'] extends true ? P : never }[PushName];
type LivePush = Exclude<PushName, StoredPush>;

const announced = new WeakSet<Tx>();

/** Wakes the sequencer once this transaction commits: directly on this node, by NOTIFY on the others. */
async function announce(deps: Pick<Deps, 'db' | 'sequencer'>, tx: Tx): Promise<void> {
  if (announced.has(tx)) return;
  announced.add(tx);
  if (deps.db.kind === 'postgres') await tx.query(`SELECT pg_notify('lilium_outbox', '')`);
  tx.afterCommit(() => deps.sequencer.kick());
}

/**
 * Records a push in the caller's transaction. It is published (with its seq) only after commit,
 * so a rollback pushes nothing and a crash loses nothing.
 */
export async function push<P extends StoredPush>(deps: Pick<Deps, 'db' | 'sequencer'>, tx: Tx, rooms: string[], event: P, data: PushDataOf<P>): Promise<void> {
  if (rooms.length === 0) return;
  await tx.query('INSERT INTO outbox (rooms, event, data) VALUES ($1, $2, $3)', [rooms, event, JSON.stringify(data)]);
  await announce(deps, tx);
}

/** Stock pushes are coalesced: the change marks the product, and the sequencer pushes its latest level. */
export async function markStockChanged(ctx: TxCtx, productIds: string[]): Promise<void> {
  if (productIds.length === 0) return;
  await ctx.query(sql`INSERT INTO stock_dirty (product_id) SELECT unnest(${productIds}::uuid[]) ON CONFLICT DO NOTHING`);
  await announce(ctx.deps, ctx);
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
  if (pushes[event].stored) return push(ctx.deps, ctx, rooms, event as StoredPush, data as PushDataOf<StoredPush>);
  const to = opts.except ? ctx.deps.io.to(rooms).except(opts.except) : ctx.deps.io.to(rooms);
  ctx.afterCommit(() => void to.emit(event as LivePush, ...([data] as never)));
}
