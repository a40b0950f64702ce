import { sql, type Sql } from '../../db/sql.js';
import type { TxCtx } from '../rpc/context.js';

/**
 * Locks the products `where` picks (alias `p`) in id order, the order a checkout and moveStock take them in: a
 * statement that then changes many of them at once, in whatever order its plan visits them, waits for a checkout
 * without holding a row that checkout wants next, so the two never deadlock. The default is the lock an UPDATE of
 * non-key columns takes; `UPDATE NOWAIT`, before a DELETE, fails at once rather than wait for a checkout's key-share
 * lock (its order items), which it would hold while that checkout waits for the rows locked before.
 */
export async function lockProducts(ctx: TxCtx, where: Sql, strength: 'NO KEY UPDATE' | 'UPDATE NOWAIT' = 'NO KEY UPDATE'): Promise<void> {
  await ctx.query(sql`SELECT 1 FROM products p WHERE ${where} ORDER BY p.id FOR ${sql.raw(strength)}`);
}

/**
 * Key-share locks the categories `ids` names, in id order, as the foreign key of a write adding products to them
 * would, but before that write locks any product: a category is locked before its products (deleteCategory takes
 * the category, then the products it moves), so a write holding a product of a category while its key waits for
 * that category would deadlock with the delete. One deleted meanwhile is waited for, then gone, and the write fails
 * on its key as before.
 */
export async function lockCategories(ctx: TxCtx, ids: string[]): Promise<void> {
  if (ids.length) await ctx.query(sql`SELECT 1 FROM categories WHERE id = ANY(${[...new Set(ids)]}::uuid[]) ORDER BY id FOR KEY SHARE`);
}
