import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import type { ProductRow, StockHistoryRow } from '../../db/tables.js';
import { REFUSALS, unlessRefused } from '../db-errors.js';
import { AppError, notFound } from '../errors.js';
import { notify, vendorStaff } from '../notifications/notify.js';
import { stockMarks, withWake } from '../outbox/outbox.js';
import { afterCursor, page } from '../pagination.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import { loadCatalogProduct } from './products.service.js';

export interface StockMove {
  productId: string;
  delta: number;
  reason: string;
  actorId: string | null;
  ref?: string;
}

type Moved = Pick<ProductRow, 'id' | 'vendor_id' | 'name_ar' | 'name_en' | 'stock' | 'low_stock_threshold' | 'low_stock_alerted'>;

/**
 * Whether a move just brought a product to or below its low-stock threshold and staff have not been told since it
 * was last above it. The row is locked by the move until commit, so of two sales at once only one sees the fall.
 * A level that was above the threshold counts even with the flag still set (a write that bypasses moveStock).
 */
export function fellToThreshold(row: Pick<Moved, 'stock' | 'low_stock_threshold' | 'low_stock_alerted'>, delta: number): boolean {
  return row.stock <= row.low_stock_threshold && (!row.low_stock_alerted || row.stock - delta > row.low_stock_threshold);
}

/** fellToThreshold in SQL, of a product row as the move's UPDATE returned it (`moved`) and its move (`m`). */
const FELL = sql`moved.stock <= moved.low_stock_threshold AND (NOT moved.low_stock_alerted OR moved.stock - m.delta > moved.low_stock_threshold)`;

/** Marks the fallen products told and tells each one's vendor staff, once per product. */
async function alertLowStock(ctx: TxCtx, fallen: Moved[]): Promise<void> {
  if (fallen.length === 0) return;
  await ctx.query(sql`UPDATE products SET low_stock_alerted = true WHERE id = ANY(${fallen.map((p) => p.id)}::uuid[])`);
  const staff = new Map<string, string[]>();
  for (const p of fallen) {
    if (!staff.has(p.vendor_id)) staff.set(p.vendor_id, await vendorStaff(ctx, p.vendor_id));
    await notify(ctx, {
      kind: 'stock.low',
      userIds: staff.get(p.vendor_id)!,
      vars: { productAr: p.name_ar, productEn: p.name_en, stock: p.stock, threshold: p.low_stock_threshold },
      link: { type: 'product', id: p.id },
    });
  }
}

/**
 * Moves stock in one statement: the rows are locked in id order, so concurrent multi-product moves never deadlock,
 * then each gets a conditional update. The other rows it locks (the stock marks) come after those, as it reads what
 * the update answered: otherwise a statement's parts run in no set order. A move that would go below zero changes
 * nothing and answers which products fell short. Every move leaves a history row with the level it left, and marks
 * the product for the stock push. `sold`: the moves are sales (or their return), counted in `sold_count` by the same
 * update. One move per product.
 *
 * `atCommit`: the statement goes with the transaction's COMMIT (Tx.atCommit), so the product rows, which every
 * checkout of a popular product queues for, stay locked only while the commit runs. Then nobody reads its answer: a
 * move that falls short, finds no product or brings one to its threshold (whose staff are told in the same
 * transaction) fails the statement with RERUN instead, and the transaction's second run sends it here and answers.
 */
export async function moveStock(ctx: TxCtx, moves: StockMove[], opts: { sold?: boolean; atCommit?: boolean } = {}): Promise<void> {
  const sorted = [...moves].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
  const ids = sorted.map((m) => m.productId);
  if (new Set(ids).size !== ids.length) throw new Error('moveStock takes one move per product');
  if (sorted.length === 0) return;
  const atCommit = opts.atCommit === true && !ctx.rerun;
  // Rising above the threshold clears the alert, so the next fall is told again; at or below it, the flag stays as it was.
  const statement = withWake(ctx, (wake) =>
    sql`
      WITH m AS (
        SELECT * FROM unnest(${ids}::uuid[], ${sorted.map((m) => m.delta)}::int[], ${sorted.map((m) => m.reason)}::text[],
                             ${sorted.map((m) => m.actorId)}::uuid[], ${sorted.map((m) => m.ref ?? null)}::text[]) AS m(id, delta, reason, actor_id, ref)
      ), locked AS MATERIALIZED (
        -- NO KEY UPDATE, the lock an UPDATE takes: it does not wait for the key-share locks of other checkouts' order items.
        SELECT p.id, p.stock FROM products p WHERE p.id = ANY(${ids}::uuid[]) ORDER BY p.id FOR NO KEY UPDATE
      ), moved AS (
        UPDATE products p SET stock = p.stock + m.delta, updated_at = now(),
                              low_stock_alerted = p.low_stock_alerted AND p.stock + m.delta <= p.low_stock_threshold
                              ${opts.sold ? sql`, sold_count = greatest(p.sold_count - m.delta, 0)` : sql.empty}
          FROM m JOIN locked l ON l.id = m.id
         WHERE p.id = m.id AND p.stock + m.delta >= 0
        RETURNING p.id, p.vendor_id, p.name_ar, p.name_en, p.stock, p.low_stock_threshold, p.low_stock_alerted
      ), history AS (
        INSERT INTO stock_history (product_id, delta, stock_after, reason, actor_id, ref)
        SELECT m.id, m.delta, moved.stock, m.reason, m.actor_id, m.ref FROM m JOIN moved ON moved.id = m.id ORDER BY m.id
      ), marked AS (${stockMarks(sql`SELECT id FROM moved`)})
      ${
        atCommit
          ? sql`SELECT ${unlessRefused(sql`NOT EXISTS (SELECT 1 FROM m LEFT JOIN moved ON moved.id = m.id WHERE moved.id IS NULL OR (${FELL}))`, REFUSALS.rerun)}, ${wake} AS woke`
          : sql`SELECT m.id, l.stock AS locked, CASE WHEN moved.id IS NULL THEN NULL ELSE to_jsonb(moved) END AS moved, ${wake} AS woke
                  FROM m LEFT JOIN locked l ON l.id = m.id LEFT JOIN moved ON moved.id = m.id ORDER BY m.id`
      }`.prepared(),
  );
  if (atCommit) return ctx.atCommit(statement);
  const rows = await ctx.query<{ id: string; locked: number | null; moved: Moved | null }>(statement);
  if (rows.some((r) => r.locked === null)) throw notFound('product');
  const short = rows
    .filter((r) => !r.moved)
    .map((r) => ({ productId: r.id, requested: -sorted.find((m) => m.productId === r.id)!.delta, available: r.locked! }));
  if (short.length) throw new AppError('INSUFFICIENT_STOCK', 'not enough stock', { products: short });
  const fallen = rows.map((r, i) => ({ row: r.moved!, delta: sorted[i]!.delta })).filter(({ row, delta }) => fellToThreshold(row, delta));
  await alertLowStock(
    ctx,
    fallen.map((f) => f.row),
  );
}

export async function adjustStock(ctx: Ctx, input: ParsedInputOf<'stock:adjust'>): Promise<ResultOf<'stock:adjust'>> {
  const actor = actorOf(ctx);
  return ctx.tx(async (ctx) => {
    await loadCatalogProduct(ctx, input.productId, true);
    await moveStock(ctx, [{ productId: input.productId, delta: input.delta, reason: input.reason, actorId: actor.userId }]);
    const [row] = await ctx.query<Pick<ProductRow, 'stock'>>(sql`SELECT stock FROM products WHERE id = ${input.productId}`);
    return { productId: input.productId, stock: row!.stock };
  });
}

export async function stockHistory(ctx: Ctx, input: ParsedInputOf<'stock:history'>): Promise<ResultOf<'stock:history'>> {
  await loadCatalogProduct(ctx, input.productId);
  const rows = await ctx.query<Omit<StockHistoryRow, 'ref'>>(
    sql`SELECT id, product_id, delta, stock_after, reason, actor_id, at FROM stock_history
         WHERE product_id = ${input.productId} AND ${afterCursor(input.cursor, [[sql`id`, 'bigint']])} ORDER BY id DESC LIMIT ${input.limit + 1}`,
  );
  return page(
    rows,
    input.limit,
    (h) => ({
      id: h.id,
      productId: h.product_id,
      delta: h.delta,
      stockAfter: h.stock_after,
      reason: h.reason,
      actorId: h.actor_id,
      at: new Date(h.at).toISOString(),
    }),
    (h) => [String(h.id)],
  );
}
