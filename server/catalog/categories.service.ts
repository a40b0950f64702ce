import type { CategoryNode } from '../../protocol/catalog.js';
import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Tx } from '../../db/tx.js';
import { audit } from '../audit.js';
import { mapConstraintErrors } from '../db-errors.js';
import { AppError, notFound } from '../errors.js';
import { refuseZoneLimited } from '../auth/zone-scope.js';
import { actorOf, type Ctx } from '../rpc/context.js';
import type { Reader } from '../../db/tx.js';

interface CategoryRow {
  id: string;
  parent_id: string | null;
  name_ar: string;
  name_en: string;
  slug: string;
  position: number;
  image_url: string | null;
}

const COLUMNS = 'id, parent_id, name_ar, name_en, slug, position, image_url';
/** Moves and deletes that re-parent take this lock, so two of them cannot build a cycle together. */
const TREE_LOCK = 7462003;

const toCategory = (c: CategoryRow) => ({
  id: c.id,
  parentId: c.parent_id,
  name: { ar: c.name_ar, en: c.name_en },
  slug: c.slug,
  position: c.position,
  imageUrl: c.image_url,
});

/** A category and every category below it. */
export const DESCENDANTS_SQL = `WITH RECURSIVE d AS (SELECT id FROM categories WHERE id = $1 UNION ALL SELECT c.id FROM categories c JOIN d ON c.parent_id = d.id) SELECT id FROM d`;

async function load(r: Reader, id: string): Promise<CategoryRow> {
  const [row] = await r.query<CategoryRow>(`SELECT ${COLUMNS} FROM categories WHERE id = $1`, [id]);
  if (!row) throw notFound('category');
  return row;
}

async function descendants(r: Reader, id: string): Promise<string[]> {
  return (await r.query<{ id: string }>(DESCENDANTS_SQL, [id])).map((x) => x.id);
}

const slugify = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '') || 'category';

async function freeSlug(tx: Tx, base: string): Promise<string> {
  const taken = new Set((await tx.query<{ slug: string }>(`SELECT slug FROM categories WHERE slug = $1 OR slug LIKE $1 || '-%'`, [base])).map((r) => r.slug));
  let slug = base;
  for (let i = 2; taken.has(slug); i++) slug = `${base}-${i}`;
  return slug;
}

/** The tree is the same for everyone and read on every app start: cached, and invalidated by every change to what it counts. */
export const TREE_CACHE = 'categories:tree';

export const categoryTree = (ctx: Ctx): Promise<ResultOf<'categories:tree'>> => ctx.deps.cache.get(TREE_CACHE, () => loadTree(ctx));

async function loadTree(ctx: Ctx): Promise<ResultOf<'categories:tree'>> {
  const rows = await ctx.read((r) =>
    r.query<CategoryRow & { direct: number }>(
      `SELECT ${COLUMNS}, (SELECT count(*)::int FROM products p JOIN vendors v ON v.id = p.vendor_id
                            WHERE p.category_id = c.id AND p.deleted_at IS NULL AND p.status = 'ACTIVE' AND v.status = 'APPROVED') AS direct
         FROM categories c ORDER BY position, name_en`,
    ),
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

export async function createCategory(ctx: Ctx, input: ParsedInputOf<'categories:create'>): Promise<ResultOf<'categories:create'>> {
  refuseZoneLimited(actorOf(ctx), 'change the category tree every zone shares');
  return ctx.tx(async (tx) => {
    ctx.deps.cache.invalidateAfter(tx, TREE_CACHE);
    const parentId = input.parentId ?? null;
    if (parentId) await load(tx, parentId);
    const slug = input.slug ?? (await freeSlug(tx, slugify(input.name.en)));
    const [pos] = await tx.query<{ next: number }>(
      'SELECT coalesce(max(position) + 1, 0)::int AS next FROM categories WHERE parent_id IS NOT DISTINCT FROM $1',
      [parentId],
    );
    const [row] = await mapConstraintErrors(
      () =>
        tx.query<CategoryRow>(
          `INSERT INTO categories (parent_id, name_ar, name_en, slug, position, image_url) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
          [parentId, input.name.ar, input.name.en, slug, input.position ?? pos!.next, input.imageUrl ?? null],
        ),
      'a category with this slug exists',
    );
    return toCategory(row!);
  });
}

export async function updateCategory(ctx: Ctx, input: ParsedInputOf<'categories:update'>): Promise<ResultOf<'categories:update'>> {
  refuseZoneLimited(actorOf(ctx), 'change the category tree every zone shares');
  return ctx.tx(async (tx) => {
    ctx.deps.cache.invalidateAfter(tx, TREE_CACHE);
    const c = await load(tx, input.id);
    const [row] = await mapConstraintErrors(
      () =>
        tx.query<CategoryRow>(`UPDATE categories SET name_ar = $2, name_en = $3, slug = $4, position = $5, image_url = $6 WHERE id = $1 RETURNING ${COLUMNS}`, [
          c.id,
          input.name?.ar ?? c.name_ar,
          input.name?.en ?? c.name_en,
          input.slug ?? c.slug,
          input.position ?? c.position,
          input.imageUrl === undefined ? c.image_url : input.imageUrl,
        ]),
      'a category with this slug exists',
    );
    return toCategory(row!);
  });
}

export async function moveCategory(ctx: Ctx, input: ParsedInputOf<'categories:move'>): Promise<ResultOf<'categories:move'>> {
  refuseZoneLimited(actorOf(ctx), 'change the category tree every zone shares');
  return ctx.tx(async (tx) => {
    ctx.deps.cache.invalidateAfter(tx, TREE_CACHE);
    await tx.query('SELECT pg_advisory_xact_lock($1)', [TREE_LOCK]);
    const c = await load(tx, input.id);
    if (input.parentId) {
      await load(tx, input.parentId);
      if ((await descendants(tx, c.id)).includes(input.parentId)) {
        throw new AppError('CONFLICT', 'a category cannot move under itself or one of its descendants', { id: c.id, parentId: input.parentId });
      }
    }
    const [pos] = await tx.query<{ next: number }>(
      'SELECT coalesce(max(position) + 1, 0)::int AS next FROM categories WHERE parent_id IS NOT DISTINCT FROM $1',
      [input.parentId],
    );
    const [row] = await tx.query<CategoryRow>(`UPDATE categories SET parent_id = $2, position = $3 WHERE id = $1 RETURNING ${COLUMNS}`, [
      c.id,
      input.parentId,
      input.position ?? pos!.next,
    ]);
    return toCategory(row!);
  });
}

export async function deleteCategory(ctx: Ctx, input: ParsedInputOf<'categories:delete'>): Promise<ResultOf<'categories:delete'>> {
  refuseZoneLimited(actorOf(ctx), 'change the category tree every zone shares');
  return ctx.tx(async (tx) => {
    ctx.deps.cache.invalidateAfter(tx, TREE_CACHE);
    await tx.query('SELECT pg_advisory_xact_lock($1)', [TREE_LOCK]);
    const c = await load(tx, input.id);
    const [counts] = await tx.query<{ products: number; children: number }>(
      'SELECT (SELECT count(*)::int FROM products WHERE category_id = $1) AS products, (SELECT count(*)::int FROM categories WHERE parent_id = $1) AS children',
      [c.id],
    );
    let moved = { products: 0, children: 0 };
    if (counts!.products + counts!.children > 0) {
      if (!input.reassignTo) {
        throw new AppError('CONFLICT', 'the category still has products or children; name reassignTo to move them', counts);
      }
      await load(tx, input.reassignTo);
      if ((await descendants(tx, c.id)).includes(input.reassignTo))
        throw new AppError('CONFLICT', 'cannot reassign into the category being deleted or below it');
      await tx.query('UPDATE products SET category_id = $2, updated_at = now() WHERE category_id = $1', [c.id, input.reassignTo]);
      await tx.query('UPDATE categories SET parent_id = $2 WHERE parent_id = $1', [c.id, input.reassignTo]);
      moved = counts!;
    }
    await tx.query('DELETE FROM categories WHERE id = $1', [c.id]);
    await audit(tx, 'CATEGORY_DELETE', { type: 'category', id: c.id }, { slug: c.slug, reassignTo: input.reassignTo, ...moved });
    return { id: c.id, movedProducts: moved.products, movedChildren: moved.children };
  });
}

/** For each category, itself and every category above it: what a promotion on a parent category reaches. */
export async function categoryPaths(r: Reader, ids: string[]): Promise<Map<string, string[]>> {
  if (ids.length === 0) return new Map();
  const rows = await r.query<{ leaf: string; path: string[] }>(
    `WITH RECURSIVE up AS (
       SELECT id AS leaf, id, parent_id FROM categories WHERE id = ANY($1::uuid[])
       UNION ALL
       SELECT up.leaf, c.id, c.parent_id FROM up JOIN categories c ON c.id = up.parent_id
     )
     SELECT leaf, array_agg(id) AS path FROM up GROUP BY leaf`,
    [[...new Set(ids)]],
  );
  return new Map(rows.map((r) => [r.leaf, r.path]));
}
