import type { CategoryNode } from '../../protocol/catalog.js';
import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import type { CategoryRow } from '../../db/tables.js';
import type { Reader } from '../../db/tx.js';
import { audit } from '../audit.js';
import { mapConstraintErrors } from '../db-errors.js';
import { AppError, notFound } from '../errors.js';
import { refuseZoneLimited } from '../auth/zone-scope.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import { lockProducts } from './product-locks.js';

/** Moves and deletes that re-parent take this lock, so two of them cannot build a cycle together. */
const TREE_LOCK = 7462003;
const SLUG_TAKEN = 'a category with this slug exists';

const toCategory = (c: CategoryRow) => ({
  id: c.id,
  parentId: c.parent_id,
  name: { ar: c.name_ar, en: c.name_en },
  slug: c.slug,
  position: c.position,
  imageUrl: c.image_url,
});

/** The ids of a category and of every category below it, as a subquery. */
export const descendantsOf = (id: string) =>
  sql`WITH RECURSIVE d AS (SELECT id FROM categories WHERE id = ${id} UNION ALL SELECT c.id FROM categories c JOIN d ON c.parent_id = d.id) SELECT id FROM d`;

/**
 * `kept`: the row key-share locked, as the foreign key of a row written under it would lock it, so that a category
 * being deleted meanwhile (deleteCategory locks it first) is waited for and then NOT_FOUND, not a failed key.
 */
async function load(r: Reader, id: string, kept = false): Promise<CategoryRow> {
  const [row] = await r.query<CategoryRow>(sql`SELECT * FROM categories WHERE id = ${id} ${sql.raw(kept ? 'FOR KEY SHARE' : '')}`);
  if (!row) throw notFound('category');
  return row;
}

async function isBelow(r: Reader, id: string, ancestorId: string): Promise<boolean> {
  return (await r.query(sql`SELECT 1 FROM (${descendantsOf(ancestorId)}) d WHERE d.id = ${id}`)).length > 0;
}

async function nextPosition(r: Reader, parentId: string | null): Promise<number> {
  const [pos] = await r.query<{ next: number }>(
    sql`SELECT coalesce(max(position) + 1, 0)::int AS next FROM categories WHERE parent_id IS NOT DISTINCT FROM ${parentId}::uuid`,
  );
  return pos!.next;
}

const slugify = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '') || 'category';

async function freeSlug(r: Reader, base: string): Promise<string> {
  const taken = new Set(
    (await r.query<Pick<CategoryRow, 'slug'>>(sql`SELECT slug FROM categories WHERE slug = ${base} OR slug LIKE ${base}::text || '-%'`)).map((r) => r.slug),
  );
  let slug = base;
  for (let i = 2; taken.has(slug); i++) slug = `${base}-${i}`;
  return slug;
}

/** The tree is the same for everyone and read on every app start: cached, and invalidated by every change to what it counts. */
export const TREE_CACHE = 'categories:tree';

export const categoryTree = (ctx: Ctx): Promise<ResultOf<'categories:tree'>> => ctx.deps.cache.get(TREE_CACHE, () => loadTree(ctx));

async function loadTree(ctx: Ctx): Promise<ResultOf<'categories:tree'>> {
  const rows = await ctx.query<CategoryRow & { direct: number }>(
    sql`SELECT c.*, (SELECT count(*)::int FROM products p JOIN vendors v ON v.id = p.vendor_id
                      WHERE p.category_id = c.id AND p.deleted_at IS NULL AND p.status = 'ACTIVE' AND v.status = 'APPROVED') AS direct
          FROM categories c ORDER BY position, name_en`,
  );
  const nodes = new Map<string, CategoryNode & { direct: number }>(
    rows.map((r) => [r.id, { ...toCategory(r), productCount: 0, children: [], direct: r.direct }]),
  );
  const roots: CategoryNode[] = [];
  for (const node of nodes.values()) (node.parentId ? nodes.get(node.parentId)!.children : roots).push(node);
  const total = (n: CategoryNode & { direct: number }): number => (n.productCount = n.direct + n.children.reduce((s, c) => s + total(c as typeof n), 0));
  const strip = (n: CategoryNode): CategoryNode => {
    const { id, parentId, name, slug, position, imageUrl, productCount, children } = n;
    return { id, parentId, name, slug, position, imageUrl, productCount, children: children.map(strip) };
  };
  roots.forEach((r) => total(r as CategoryNode & { direct: number }));
  return { items: roots.map(strip) };
}

/**
 * Every change to the tree: only by an admin not limited to zones, in a transaction whose commit drops the cached
 * tree, under the tree lock when it re-parents; `id` names the category changed, loaded (NOT_FOUND) and handed on.
 */
function changeTree<T>(ctx: Ctx, fn: (ctx: TxCtx) => Promise<T>, opts: { reparents?: boolean } = {}): Promise<T> {
  refuseZoneLimited(actorOf(ctx), 'change the category tree every zone shares');
  return ctx.tx(async (ctx) => {
    ctx.deps.cache.invalidateAfter(ctx, TREE_CACHE);
    if (opts.reparents) await ctx.query(sql`SELECT pg_advisory_xact_lock(${TREE_LOCK})`);
    return fn(ctx);
  });
}

const changeCategory = <T>(ctx: Ctx, id: string, fn: (ctx: TxCtx, c: CategoryRow) => Promise<T>, opts: { reparents?: boolean } = {}): Promise<T> =>
  changeTree(ctx, async (ctx) => fn(ctx, await load(ctx, id)), opts);

export async function createCategory(ctx: Ctx, input: ParsedInputOf<'categories:create'>): Promise<ResultOf<'categories:create'>> {
  return changeTree(ctx, async (ctx) => {
    const parentId = input.parentId ?? null;
    if (parentId) await load(ctx, parentId, true);
    const slug = input.slug ?? (await freeSlug(ctx, slugify(input.name.en)));
    const position = input.position ?? (await nextPosition(ctx, parentId));
    const [row] = await mapConstraintErrors(
      () =>
        ctx.query<CategoryRow>(
          sql`INSERT INTO categories (parent_id, name_ar, name_en, slug, position, image_url)
              VALUES (${parentId}::uuid, ${input.name.ar}, ${input.name.en}, ${slug}, ${position}, ${input.imageUrl ?? null}) RETURNING *`,
        ),
      SLUG_TAKEN,
    );
    return toCategory(row!);
  });
}

export async function updateCategory(ctx: Ctx, input: ParsedInputOf<'categories:update'>): Promise<ResultOf<'categories:update'>> {
  return changeCategory(ctx, input.id, async (ctx, c) => {
    const [row] = await mapConstraintErrors(
      () =>
        ctx.query<CategoryRow>(
          sql`UPDATE categories SET name_ar = ${input.name?.ar ?? c.name_ar}, name_en = ${input.name?.en ?? c.name_en}, slug = ${input.slug ?? c.slug},
                     position = ${input.position ?? c.position}, image_url = ${input.imageUrl === undefined ? c.image_url : input.imageUrl}
               WHERE id = ${c.id} RETURNING *`,
        ),
      SLUG_TAKEN,
    );
    return toCategory(row!);
  });
}

export async function moveCategory(ctx: Ctx, input: ParsedInputOf<'categories:move'>): Promise<ResultOf<'categories:move'>> {
  return changeCategory(
    ctx,
    input.id,
    async (ctx, c) => {
      if (input.parentId) {
        await load(ctx, input.parentId);
        if (await isBelow(ctx, input.parentId, c.id)) {
          throw new AppError('CONFLICT', 'a category cannot move under itself or one of its descendants', { id: c.id, parentId: input.parentId });
        }
      }
      const position = input.position ?? (await nextPosition(ctx, input.parentId));
      const [row] = await ctx.query<CategoryRow>(
        sql`UPDATE categories SET parent_id = ${input.parentId}::uuid, position = ${position} WHERE id = ${c.id} RETURNING *`,
      );
      return toCategory(row!);
    },
    { reparents: true },
  );
}

export async function deleteCategory(ctx: Ctx, input: ParsedInputOf<'categories:delete'>): Promise<ResultOf<'categories:delete'>> {
  return changeCategory(
    ctx,
    input.id,
    async (ctx, c) => {
      // The category locked first, as DELETE would lock it, and counted once locked (the two in one round trip): a
      // product or child category written into it meanwhile has either committed, and is counted, locked and moved
      // with the others, or waits and then finds it gone (assertCategory, `load` kept, lockCategories).
      const [, [counts]] = await Promise.all([
        ctx.query(sql`SELECT 1 FROM categories WHERE id = ${c.id} FOR UPDATE`),
        ctx.query<{ products: number; children: number }>(
          sql`SELECT (SELECT count(*)::int FROM products WHERE category_id = ${c.id}) AS products,
                     (SELECT count(*)::int FROM categories WHERE parent_id = ${c.id}) AS children`,
        ),
      ]);
      let moved = { products: 0, children: 0 };
      if (counts!.products + counts!.children > 0) {
        if (!input.reassignTo) {
          throw new AppError('CONFLICT', 'the category still has products or children; name reassignTo to move them', counts);
        }
        await load(ctx, input.reassignTo);
        if (await isBelow(ctx, input.reassignTo, c.id)) throw new AppError('CONFLICT', 'cannot reassign into the category being deleted or below it');
        await lockProducts(ctx, sql`p.category_id = ${c.id}`);
        // What moved, counted as it moves: a product moved out while the delete waited for it was counted above.
        const [done] = await ctx.query<typeof moved>(
          sql`WITH p AS (UPDATE products SET category_id = ${input.reassignTo}, updated_at = now() WHERE category_id = ${c.id} RETURNING 1),
                   k AS (UPDATE categories SET parent_id = ${input.reassignTo} WHERE parent_id = ${c.id} RETURNING 1)
              SELECT (SELECT count(*)::int FROM p) AS products, (SELECT count(*)::int FROM k) AS children`,
        );
        moved = done!;
      }
      await ctx.query(sql`DELETE FROM categories WHERE id = ${c.id}`);
      await audit(ctx, 'CATEGORY_DELETE', { type: 'category', id: c.id }, { slug: c.slug, reassignTo: input.reassignTo, ...moved });
      return { id: c.id, movedProducts: moved.products, movedChildren: moved.children };
    },
    { reparents: true },
  );
}

/** For each category, itself and every category above it: what a promotion on a parent category reaches. */
export async function categoryPaths(r: Reader, ids: string[]): Promise<Map<string, string[]>> {
  if (ids.length === 0) return new Map();
  const rows = await r.query<{ leaf: string; path: string[] }>(
    sql`WITH RECURSIVE up AS (
          SELECT id AS leaf, id, parent_id FROM categories WHERE id = ANY(${[...new Set(ids)]}::uuid[])
          UNION ALL
          SELECT up.leaf, c.id, c.parent_id FROM up JOIN categories c ON c.id = up.parent_id
        )
        SELECT leaf, array_agg(id) AS path FROM up GROUP BY leaf`,
  );
  return new Map(rows.map((r) => [r.leaf, r.path]));
}
