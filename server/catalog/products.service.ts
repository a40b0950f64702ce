import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import type { Tx } from '../../db/tx.js';
import { assertInZones, assertWithinZones, mergeZones, ownZonesOf, zoneScope } from '../auth/zone-scope.js';
import { mapConstraintErrors } from '../db-errors.js';
import { AppError, forbidden, notFound } from '../errors.js';
import { markStockChanged } from '../outbox/outbox.js';
import { decodeCursor, encodeCursor, type CursorPart } from '../pagination.js';
import { actorOf, type Ctx } from '../rpc/context.js';
import type { Actor } from '../auth/actor.js';
import type { Reader } from '../../db/tx.js';
import { attachUploads } from '../uploads/uploads.service.js';
import { isAdmin } from '../users/scope.js';
import { DESCENDANTS_SQL, TREE_CACHE } from './categories.service.js';
import { PRODUCT_COLUMNS, PRODUCT_FROM, findProduct, toProduct, type ProductRecord } from './products.read.js';

const PUBLIC = `p.deleted_at IS NULL AND p.status = 'ACTIVE' AND v.status = 'APPROVED'`;
const SKU_TAKEN = 'this vendor already has a product with this SKU';

/** Staff act on their own vendor's catalogue; admins on any vendor in their zones (another is NOT_FOUND). */
export async function assertCatalogReach(r: Reader, actor: Actor, vendorId: string): Promise<void> {
  await assertInZones(r, actor, 'vendor', vendorId);
  if (!isAdmin(actor.role) && actor.vendorId !== vendorId) throw forbidden('this product belongs to another vendor');
}

/** A product to change: NOT_FOUND when deleted or outside the actor's zones, FORBIDDEN when another vendor's. */
export async function loadCatalogProduct(r: Reader, actor: Actor, id: string, lock = false): Promise<ProductRecord> {
  const p = await findProduct(r, id, lock);
  if (!p) throw notFound('product');
  await assertInZones(r, actor, 'product', id);
  if (!isAdmin(actor.role) && actor.vendorId !== p.vendor_id) throw forbidden('this product belongs to another vendor');
  return p;
}

/** What a caller may see: the orderable catalogue, plus its own vendor's drafts; a shop only its zone; an admin its zones. */
function visibility(actor: Actor, bind: (v: unknown) => string): string {
  if (isAdmin(actor.role)) return `p.deleted_at IS NULL AND ${zoneScope(actor, 'product', sql.raw('p.id')).toText(bind)}`;
  if (actor.vendorId && (actor.role === 'VENDOR' || actor.role === 'COMPANY_MANAGER')) {
    return `(${PUBLIC} OR (p.deleted_at IS NULL AND p.vendor_id = ${bind(actor.vendorId)}))`;
  }
  if (actor.role === 'SHOP_OWNER') {
    return `${PUBLIC} AND EXISTS (SELECT 1 FROM product_zones sz WHERE sz.product_id = p.id AND sz.zone_id = ANY(${bind(actor.zoneIds)}::uuid[]))`;
  }
  return PUBLIC;
}

type Sort = NonNullable<ParsedInputOf<'products:list'>['sort']>;
const ORDER: Record<Exclude<Sort, 'relevance'>, { by: string; key: string; cmp: '>' | '<'; cast: CursorPart }> = {
  price_asc: { by: 'p.price_minor, p.id', key: 'p.price_minor', cmp: '>', cast: 'bigint' },
  price_desc: { by: 'p.price_minor DESC, p.id DESC', key: 'p.price_minor', cmp: '<', cast: 'bigint' },
  name: { by: 'lower(p.name_en), p.id', key: 'lower(p.name_en)', cmp: '>', cast: 'text' },
  newest: { by: 'p.created_at DESC, p.id DESC', key: 'p.created_at', cmp: '<', cast: 'timestamptz' },
  popular: { by: 'p.sold_count DESC, p.id DESC', key: 'p.sold_count', cmp: '<', cast: 'integer' },
};

export async function listProducts(ctx: Ctx, input: ParsedInputOf<'products:list'>): Promise<ResultOf<'products:list'>> {
  const actor = actorOf(ctx);
  const params: unknown[] = [];
  const bind = (v: unknown) => `$${params.push(v)}`;
  const where = [visibility(actor, bind)];
  if (input.categoryId) where.push(`p.category_id IN (${DESCENDANTS_SQL.replace('$1', bind(input.categoryId))})`);
  if (input.vendorId) where.push(`p.vendor_id = ${bind(input.vendorId)}`);
  if (input.zoneId) where.push(`EXISTS (SELECT 1 FROM product_zones fz WHERE fz.product_id = p.id AND fz.zone_id = ${bind(input.zoneId)})`);
  if (input.minPrice !== undefined) where.push(`p.price_minor >= ${bind(input.minPrice)}`);
  if (input.maxPrice !== undefined) where.push(`p.price_minor <= ${bind(input.maxPrice)}`);
  if (input.inStock !== undefined) where.push(input.inStock ? 'p.stock > 0' : 'p.stock = 0');
  if (input.featured !== undefined) where.push(`p.featured = ${bind(input.featured)}`);

  let score = '0';
  if (input.q) ({ score } = await searchTerm(ctx, input.q, where, bind, params));
  const sort: Sort = input.sort ?? (input.q ? 'relevance' : 'newest');
  let order: string;
  let offset = 0;
  if (sort === 'relevance') {
    order = `score DESC, p.id`;
    if (input.cursor) offset = Number(cursorFor(input.cursor, sort)[0]);
  } else {
    const o = ORDER[sort];
    order = o.by;
    if (input.cursor) {
      const [value, id] = cursorFor(input.cursor, sort);
      where.push(`(${o.key}, p.id) ${o.cmp} (${bind(value)}::${o.cast}, ${bind(id)}::uuid)`);
    }
  }
  const rows = await ctx.read((r) =>
    r.query<ProductRecord & { score: number; sort_key: string }>(
      `SELECT ${PRODUCT_COLUMNS}, ${score} AS score, ${sort === 'relevance' ? "''" : `${ORDER[sort].key}::text`} AS sort_key
         FROM ${PRODUCT_FROM} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${bind(input.limit + 1)} OFFSET ${bind(offset)}`,
      params,
    ),
  );
  const items = rows.slice(0, input.limit);
  const last = items[items.length - 1];
  const nextCursor =
    rows.length > input.limit && last ? encodeCursor([sort, ...(sort === 'relevance' ? [String(offset + input.limit)] : [last.sort_key, last.id])]) : null;
  return { items: items.map(toProduct), nextCursor };
}

/**
 * Whole and leading-part words match through the full-text index, which is fast however many products match.
 * Only when that finds nothing visible does the (slower) trigram match take over, to forgive typos and inner fragments.
 * The term is folded exactly as the stored text was (lilium_normalize), in SQL, so the two can never disagree.
 */
async function searchTerm(ctx: Ctx, q: string, where: string[], bind: (v: unknown) => string, params: unknown[]): Promise<{ score: string }> {
  const words = q.split(/[^\p{L}\p{N}\p{M}]+/u).filter(Boolean);
  // Bound only if the full-text match is used: a statement must reference every parameter it is given.
  const [w, e] = [params.length + 1, params.length + 2];
  const tsq = `(to_tsquery('simple', array_to_string(array(SELECT lilium_normalize(w) || ':*' FROM unnest($${w}::text[]) w WHERE lilium_normalize(w) <> ''), ' & ')) || plainto_tsquery('english', $${e}))`;
  const exact = `p.search_tsv @@ ${tsq}`;
  // A term that folds to nothing (only tatweel or diacritics) would match every product as an empty pattern.
  const probe = `SELECT btrim(lilium_normalize($${e})) = '' AS blank, EXISTS (SELECT 1 FROM ${PRODUCT_FROM} WHERE ${where.join(' AND ')} AND ${exact}) AS found`;
  const [{ blank, found }] = (await ctx.read((r) => r.query<{ blank: boolean; found: boolean }>(probe, [...params, words, q]))) as [
    { blank: boolean; found: boolean },
  ];
  if (blank) {
    where.push('false');
    return { score: '0' };
  }
  if (found) {
    params.push(words, q);
    where.push(exact);
    return { score: `ts_rank(p.search_tsv, ${tsq})` };
  }
  const nq = `lilium_normalize(${bind(q)})`;
  where.push(`(p.search_text LIKE '%' || replace(replace(replace(${nq}, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%' OR ${nq} <% p.search_text)`);
  return { score: `word_similarity(${nq}, p.search_text)` };
}

function cursorFor(cursor: string, sort: Sort): string[] {
  const parts: string[] = sort === 'relevance' ? decodeCursor(cursor, ['text', 'integer']) : decodeCursor(cursor, ['text', ORDER[sort].cast, 'uuid']);
  if (parts[0] !== sort) throw new AppError('BAD_REQUEST', 'the cursor belongs to another sort order');
  return parts.slice(1);
}

export async function getProduct(ctx: Ctx, { id }: ParsedInputOf<'products:get'>): Promise<ResultOf<'products:get'>> {
  const actor = actorOf(ctx);
  const params: unknown[] = [id];
  const bind = (v: unknown) => `$${params.push(v)}`;
  const [row] = await ctx.read((r) =>
    r.query<ProductRecord>(`SELECT ${PRODUCT_COLUMNS} FROM ${PRODUCT_FROM} WHERE p.id = $1 AND ${visibility(actor, bind)}`, params),
  );
  if (!row) throw notFound('product');
  return toProduct(row);
}

async function assertCategory(r: Reader, id: string): Promise<void> {
  if ((await r.query('SELECT 1 FROM categories WHERE id = $1', [id])).length === 0) throw notFound('category');
}

/** A product is sold only in zones its vendor serves; none given means all of them (a zone-limited admin's: those in its zones). */
async function zonesFor(tx: Tx, actor: Actor, vendorId: string, wanted: string[] | undefined): Promise<string[]> {
  const served = (await tx.query<{ zone_id: string }>('SELECT zone_id FROM vendor_zones WHERE vendor_id = $1', [vendorId])).map((z) => z.zone_id);
  const zones = wanted ? [...new Set(wanted)] : ownZonesOf(actor, served);
  const outside = zones.filter((z) => !served.includes(z));
  if (outside.length) throw new AppError('OUT_OF_ZONE', 'the vendor does not serve these zones', { zoneIds: outside });
  return zones;
}

async function setProductZones(tx: Tx, productId: string, zones: string[]): Promise<void> {
  await tx.query('DELETE FROM product_zones WHERE product_id = $1', [productId]);
  if (zones.length) await tx.query('INSERT INTO product_zones (product_id, zone_id) SELECT $1, unnest($2::uuid[])', [productId, zones]);
}

export async function createProduct(ctx: Ctx, input: ParsedInputOf<'products:create'>): Promise<ResultOf<'products:create'>> {
  const actor = actorOf(ctx);
  const vendorId = isAdmin(actor.role) ? input.vendorId : (input.vendorId ?? actor.vendorId);
  if (!vendorId) throw new AppError('BAD_REQUEST', 'name the vendorId');
  return ctx.tx(async (tx) => {
    ctx.deps.cache.invalidateAfter(tx, TREE_CACHE);
    if ((await tx.query('SELECT 1 FROM vendors WHERE id = $1', [vendorId])).length === 0) throw notFound('vendor');
    await assertCatalogReach(tx, actor, vendorId);
    await assertCategory(tx, input.categoryId);
    const zones = await zonesFor(tx, actor, vendorId, input.zoneIds);
    assertWithinZones(actor, zones);
    const [row] = await mapConstraintErrors(
      () =>
        tx.query<{ id: string }>(
          `INSERT INTO products (vendor_id, category_id, sku, name_ar, name_en, description_ar, description_en, unit, units_per_pack, price_minor, compare_at_minor,
                                 min_order_qty, stock, low_stock_threshold, featured, status, images)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id`,
          [
            vendorId,
            input.categoryId,
            input.sku,
            input.name.ar,
            input.name.en,
            input.description?.ar ?? '',
            input.description?.en ?? '',
            input.unit,
            input.unitsPerPack ?? 1,
            input.price,
            input.compareAtPrice ?? null,
            input.minOrderQty ?? 1,
            input.stock ?? 0,
            input.lowStockThreshold ?? 0,
            input.featured ?? false,
            input.status ?? 'ACTIVE',
            input.images ?? [],
          ],
        ),
      SKU_TAKEN,
    );
    const id = row!.id;
    await setProductZones(tx, id, zones);
    if (input.stock) {
      await tx.query(`INSERT INTO stock_history (product_id, delta, stock_after, reason, actor_id) VALUES ($1, $2, $2, 'initial stock', $3)`, [
        id,
        input.stock,
        actor.userId,
      ]);
    }
    await attachUploads(tx, input.images ?? []);
    return toProduct((await findProduct(tx, id))!);
  });
}

export async function updateProduct(ctx: Ctx, input: ParsedInputOf<'products:update'>): Promise<ResultOf<'products:update'>> {
  const actor = actorOf(ctx);
  return ctx.tx(async (tx) => {
    ctx.deps.cache.invalidateAfter(tx, TREE_CACHE);
    const p = await loadCatalogProduct(tx, actor, input.id, true);
    if (input.categoryId) await assertCategory(tx, input.categoryId);
    await mapConstraintErrors(
      () =>
        tx.query(
          `UPDATE products SET sku = $2, name_ar = $3, name_en = $4, description_ar = $5, description_en = $6, category_id = $7, price_minor = $8, compare_at_minor = $9,
                  unit = $10, units_per_pack = $11, min_order_qty = $12, low_stock_threshold = $13, images = $14, featured = $15, status = $16, updated_at = now()
            WHERE id = $1`,
          [
            p.id,
            input.sku ?? p.sku,
            input.name?.ar ?? p.name_ar,
            input.name?.en ?? p.name_en,
            input.description?.ar ?? p.description_ar,
            input.description?.en ?? p.description_en,
            input.categoryId ?? p.category_id,
            input.price ?? p.price_minor,
            input.compareAtPrice === undefined ? p.compare_at_minor : input.compareAtPrice,
            input.unit ?? p.unit,
            input.unitsPerPack ?? p.units_per_pack,
            input.minOrderQty ?? p.min_order_qty,
            input.lowStockThreshold ?? p.low_stock_threshold,
            input.images ?? p.images,
            input.featured ?? p.featured,
            input.status ?? p.status,
          ],
        ),
      SKU_TAKEN,
    );
    if (input.zoneIds)
      await setProductZones(
        tx,
        p.id,
        await zonesFor(
          tx,
          actor,
          p.vendor_id,
          mergeZones(actor, p.zone_ids, input.zoneIds, (z) => z),
        ),
      );
    if (input.images) await attachUploads(tx, input.images);
    // Shops watching the zone learn a new price the way they learn new stock.
    if ((input.price !== undefined && input.price !== p.price_minor) || input.zoneIds) await markStockChanged(ctx.deps, tx, [p.id]);
    return toProduct((await findProduct(tx, p.id))!);
  });
}

export async function deleteProduct(ctx: Ctx, { id }: ParsedInputOf<'products:delete'>): Promise<ResultOf<'products:delete'>> {
  const actor = actorOf(ctx);
  return ctx.tx(async (tx) => {
    ctx.deps.cache.invalidateAfter(tx, TREE_CACHE);
    await loadCatalogProduct(tx, actor, id, true);
    await tx.query('UPDATE products SET deleted_at = now(), updated_at = now() WHERE id = $1', [id]);
    return { id };
  });
}
