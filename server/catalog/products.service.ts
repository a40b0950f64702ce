import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { sql, type Sql } from '../../db/sql.js';
import type { ProductRow, VendorZoneRow } from '../../db/tables.js';
import type { Reader } from '../../db/tx.js';
import { assertInZones, assertWithinZones, mergeZones, ownZonesOf, zoneScope } from '../auth/zone-scope.js';
import { mapConstraintErrors } from '../db-errors.js';
import { AppError, forbidden, notFound } from '../errors.js';
import { markStockChanged } from '../outbox/outbox.js';
import { afterCursor, decodeCursor, encodeCursor, page, type CursorPart } from '../pagination.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import type { Actor } from '../auth/actor.js';
import { attachUploads } from '../uploads/uploads.service.js';
import { isAdmin } from '../auth/zone-scope.js';
import { descendantsOf, TREE_CACHE } from './categories.service.js';
import { PRODUCT_COLUMNS, PRODUCT_FROM, findProduct, toProduct, type ProductView } from './products.read.js';

const PUBLIC = sql`p.deleted_at IS NULL AND p.status = 'ACTIVE' AND v.status = 'APPROVED'`;
const SKU_TAKEN = 'this vendor already has a product with this SKU';

/** Staff act on their own vendor's catalogue; admins on any vendor in their zones (another is NOT_FOUND). */
export async function assertCatalogReach(ctx: Ctx, vendorId: string): Promise<void> {
  const actor = actorOf(ctx);
  await assertInZones(ctx, actor, 'vendor', vendorId);
  if (!isAdmin(actor.role) && actor.vendorId !== vendorId) throw forbidden('this product belongs to another vendor');
}

/** A product to change: NOT_FOUND when deleted or outside the actor's zones, FORBIDDEN when another vendor's. */
export async function loadCatalogProduct(ctx: Ctx, id: string, lock = false): Promise<ProductView> {
  const actor = actorOf(ctx);
  const p = await findProduct(ctx, id, lock);
  if (!p) throw notFound('product');
  await assertInZones(ctx, actor, 'product', id);
  if (!isAdmin(actor.role) && actor.vendorId !== p.vendor_id) throw forbidden('this product belongs to another vendor');
  return p;
}

/** What a caller may see: the orderable catalogue, plus its own vendor's drafts; a shop only its zone; an admin its zones. */
function visibility(actor: Actor): Sql {
  if (isAdmin(actor.role)) return sql`p.deleted_at IS NULL AND ${zoneScope(actor, 'product', sql`p.id`)}`;
  if (actor.vendorId && (actor.role === 'VENDOR' || actor.role === 'COMPANY_MANAGER')) {
    return sql`(${PUBLIC} OR (p.deleted_at IS NULL AND p.vendor_id = ${actor.vendorId}))`;
  }
  if (actor.role === 'SHOP_OWNER') {
    return sql`${PUBLIC} AND p.zone_ids && ${actor.zoneIds}::uuid[]`;
  }
  return PUBLIC;
}

type Sort = NonNullable<ParsedInputOf<'products:list'>['sort']>;
const ORDER: Record<Exclude<Sort, 'relevance'>, { key: Sql; order: 'asc' | 'desc'; cast: CursorPart }> = {
  price_asc: { key: sql`p.price_minor`, order: 'asc', cast: 'bigint' },
  price_desc: { key: sql`p.price_minor`, order: 'desc', cast: 'bigint' },
  name: { key: sql`lower(p.name_en)`, order: 'asc', cast: 'text' },
  newest: { key: sql`p.created_at`, order: 'desc', cast: 'timestamptz' },
  popular: { key: sql`p.sold_count`, order: 'desc', cast: 'integer' },
};

export async function listProducts(ctx: Ctx, input: ParsedInputOf<'products:list'>): Promise<ResultOf<'products:list'>> {
  const actor = actorOf(ctx);
  const where = [visibility(actor)];
  if (input.categoryId) where.push(sql`p.category_id IN (${descendantsOf(input.categoryId)})`);
  if (input.vendorId) where.push(sql`p.vendor_id = ${input.vendorId}`);
  if (input.zoneId) where.push(sql`p.zone_ids @> ARRAY[${input.zoneId}::uuid]`);
  if (input.minPrice !== undefined) where.push(sql`p.price_minor >= ${input.minPrice}`);
  if (input.maxPrice !== undefined) where.push(sql`p.price_minor <= ${input.maxPrice}`);
  if (input.inStock !== undefined) where.push(input.inStock ? sql`p.stock > 0` : sql`p.stock = 0`);
  if (input.featured !== undefined) where.push(sql`p.featured = ${input.featured}`);

  const sort: Sort = input.sort ?? (input.q ? 'relevance' : 'newest');
  let order: Sql;
  let sortKey = sql`''`;
  let offset = 0;
  const after: Sql[] = [];
  if (sort === 'relevance') {
    order = sql`score DESC, p.id`;
    if (input.cursor) offset = Number(cursorFor(input.cursor, sort)[0]);
  } else {
    const o = ORDER[sort];
    const dir = sql.raw(o.order === 'desc' ? ' DESC' : '');
    order = sql`${o.key}${dir}, p.id${dir}`;
    sortKey = sql`${o.key}::text`;
    // The cursor names its sort order first; the rest is an ordinary keyset cursor.
    if (input.cursor)
      after.push(
        afterCursor(
          encodeCursor(cursorFor(input.cursor, sort)),
          [
            [o.key, o.cast],
            [sql`p.id`, 'uuid'],
          ],
          o.order,
        ),
      );
  }
  // A search's terms reach the planner as sub-selects, so its plan turns on the values only through the filters an
  // index serves (category, vendor, price range): without those, the statement is prepared once per connection and
  // runs on one plan instead of being parsed and planned on every call (about a sixth of a search's database time).
  const byValue = input.categoryId !== undefined || input.vendorId !== undefined || input.minPrice !== undefined || input.maxPrice !== undefined;
  const preparedSearch = (statement: Sql) => (byValue ? statement : statement.prepared());
  const run = (term: Term) => {
    const select = sql`SELECT ${PRODUCT_COLUMNS}, ${term.score} AS score, ${sortKey} AS sort_key FROM ${PRODUCT_FROM}
                        WHERE ${sql.and([...where, term.match, ...after])}`;
    // By relevance a term ranks only its first `ranked` matches as read, so a common word costs what a rare one does;
    // paging by relevance ends there.
    return ctx.query<Listed>(
      term.ranked && sort === 'relevance'
        ? preparedSearch(sql`SELECT * FROM (${select} LIMIT ${term.ranked}) p ORDER BY ${order} LIMIT ${input.limit + 1} OFFSET ${offset}`)
        : sql`${select} ORDER BY ${order} LIMIT ${input.limit + 1} OFFSET ${offset}`,
    );
  };
  const rows = input.q ? await search(ctx, input.q, where, input.cursor !== undefined, run, preparedSearch) : await run({ match: sql`true`, score: sql`0` });
  return page(rows, input.limit, toProduct, (last) => [sort, ...(sort === 'relevance' ? [String(offset + input.limit)] : [last.sort_key, last.id])]);
}

type Listed = ProductView & { score: number; sort_key: string };

interface Term {
  match: Sql;
  score: Sql;
  /** The most matches ranked by relevance. */
  ranked?: number;
}

/**
 * Whole and leading-part words match through the full-text index, which is fast however many products match.
 * Only when that finds nothing visible does the (slower) trigram match take over, to forgive typos and inner fragments:
 * a first page that comes back empty is that proof; a later page asks for it (ignoring the cursor), so every page of
 * one search takes the same way. The term is folded exactly as the stored text was (lilium_normalize), in SQL, so the
 * two can never disagree.
 */
async function search(
  ctx: Ctx,
  q: string,
  where: Sql[],
  later: boolean,
  run: (term: Term) => Promise<Listed[]>,
  preparedSearch: (statement: Sql) => Sql,
): Promise<Listed[]> {
  const words = q.split(/[^\p{L}\p{N}\p{M}]+/u).filter(Boolean);
  // A sub-select, so it is built once per statement, not again for every ranked row.
  const tsq = sql`(SELECT to_tsquery('simple', array_to_string(array(SELECT lilium_normalize(w) || ':*' FROM unnest(${words}::text[]) w WHERE lilium_normalize(w) <> ''), ' & ')) || plainto_tsquery('english', ${q}::text))`;
  // The same matches with each prefix spelled as the lexemes it stands for (migration 1764200500000-search-lexemes),
  // which the index finds without gathering every TID of every prefix match first; computed once per statement.
  // Ranking keeps `tsq`, so the scores are the same too.
  const english = sql`plainto_tsquery('english', ${q}::text)`;
  const matching = sql`(SELECT coalesce(lilium_prefix_query(${words}::text[]) || ${english}, ${english}))`;
  // A sub-select, so the planner sees a parameter: with the folded term as a constant it estimates the trigram
  // operators by running them over the column's statistics, which costs more than the search itself.
  const nq = sql`(SELECT lilium_normalize(${q}::text))`;
  // A term that folds to nothing (only tatweel or diacritics) would match every product as an empty pattern.
  const folds = sql`btrim(${nq}) <> ''`;
  const exact: Term = { match: sql`${folds} AND p.search_tsv @@ ${matching}`, score: sql`ts_rank(p.search_tsv, ${tsq})`, ranked: 500 };
  // Trigram similarity costs several times what reading the row does (twice: the index's recheck and the score);
  // ranking fewer keeps a typo fast. `text %> term` is `term <% text` in the index's own form, so the planner
  // drops the copy it would otherwise filter on again.
  const fuzzy: Term = {
    match: sql`${folds} AND (p.search_text LIKE '%' || replace(replace(replace(${nq}, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%' OR p.search_text %> ${nq})`,
    score: sql`word_similarity(${nq}, p.search_text)`,
    ranked: 200,
  };
  if (later) {
    const [{ found }] = (await ctx.query<{ found: boolean }>(
      preparedSearch(sql`SELECT EXISTS (SELECT 1 FROM ${PRODUCT_FROM} WHERE ${sql.and([...where, exact.match])}) AS found`),
    )) as [{ found: boolean }];
    return run(found ? exact : fuzzy);
  }
  const rows = await run(exact);
  return rows.length > 0 ? rows : run(fuzzy);
}

function cursorFor(cursor: string, sort: Sort): string[] {
  const parts: string[] = sort === 'relevance' ? decodeCursor(cursor, ['text', 'integer']) : decodeCursor(cursor, ['text', ORDER[sort].cast, 'uuid']);
  if (parts[0] !== sort) throw new AppError('BAD_REQUEST', 'the cursor belongs to another sort order');
  return parts.slice(1);
}

export async function getProduct(ctx: Ctx, { id }: ParsedInputOf<'products:get'>): Promise<ResultOf<'products:get'>> {
  const [row] = await ctx.query<ProductView>(sql`SELECT ${PRODUCT_COLUMNS} FROM ${PRODUCT_FROM} WHERE p.id = ${id} AND ${visibility(actorOf(ctx))}`.prepared());
  if (!row) throw notFound('product');
  return toProduct(row);
}

/**
 * The category a product goes into exists, and stays until this commits: its row is key-share locked, as the foreign
 * key would lock it, but before the write, so that one being deleted meanwhile answers NOT_FOUND once it is gone
 * (deleteCategory locks it first, then moves its products) rather than fail the write on the key.
 */
async function assertCategory(r: Reader, id: string): Promise<void> {
  if ((await r.query(sql`SELECT 1 FROM categories WHERE id = ${id} FOR KEY SHARE`)).length === 0) throw notFound('category');
}

/** A product is sold only in zones its vendor serves; none given means all of them (a zone-limited admin's: those in its zones). */
async function zonesFor(ctx: Ctx, vendorId: string, wanted: string[] | undefined): Promise<string[]> {
  const served = (await ctx.query<Pick<VendorZoneRow, 'zone_id'>>(sql`SELECT zone_id FROM vendor_zones WHERE vendor_id = ${vendorId}`)).map((z) => z.zone_id);
  const zones = wanted ? [...new Set(wanted)] : ownZonesOf(actorOf(ctx), served);
  const outside = zones.filter((z) => !served.includes(z));
  if (outside.length) throw new AppError('OUT_OF_ZONE', 'the vendor does not serve these zones', { zoneIds: outside });
  return zones;
}

async function setProductZones(ctx: TxCtx, productId: string, zones: string[]): Promise<void> {
  await ctx.query(sql`DELETE FROM product_zones WHERE product_id = ${productId}`);
  if (zones.length) await ctx.query(sql`INSERT INTO product_zones (product_id, zone_id) SELECT ${productId}, unnest(${zones}::uuid[])`);
}

/** Every change to a product: in a transaction whose commit drops the cached category tree, which counts products. */
export function changeCatalog<T>(ctx: Ctx, fn: (ctx: TxCtx) => Promise<T>): Promise<T> {
  return ctx.tx(async (ctx) => {
    ctx.deps.cache.invalidateAfter(ctx, TREE_CACHE);
    return fn(ctx);
  });
}

export async function createProduct(ctx: Ctx, input: ParsedInputOf<'products:create'>): Promise<ResultOf<'products:create'>> {
  const actor = actorOf(ctx);
  const vendorId = isAdmin(actor.role) ? input.vendorId : (input.vendorId ?? actor.vendorId);
  if (!vendorId) throw new AppError('BAD_REQUEST', 'name the vendorId');
  return changeCatalog(ctx, async (ctx) => {
    if ((await ctx.query(sql`SELECT 1 FROM vendors WHERE id = ${vendorId}`)).length === 0) throw notFound('vendor');
    await assertCatalogReach(ctx, vendorId);
    await assertCategory(ctx, input.categoryId);
    const zones = await zonesFor(ctx, vendorId, input.zoneIds);
    assertWithinZones(actor, zones);
    const [row] = await mapConstraintErrors(
      () =>
        ctx.query<Pick<ProductRow, 'id'>>(
          sql`INSERT INTO products (vendor_id, category_id, sku, name_ar, name_en, description_ar, description_en, unit, units_per_pack, price_minor,
                                    compare_at_minor, min_order_qty, stock, low_stock_threshold, featured, status, images)
              VALUES (${vendorId}, ${input.categoryId}, ${input.sku}, ${input.name.ar}, ${input.name.en}, ${input.description?.ar ?? ''},
                      ${input.description?.en ?? ''}, ${input.unit}, ${input.unitsPerPack ?? 1}, ${input.price}, ${input.compareAtPrice ?? null},
                      ${input.minOrderQty ?? 1}, ${input.stock ?? 0}, ${input.lowStockThreshold ?? 0}, ${input.featured ?? false},
                      ${input.status ?? 'ACTIVE'}, ${input.images ?? []})
              RETURNING id`,
        ),
      SKU_TAKEN,
    );
    const id = row!.id;
    await setProductZones(ctx, id, zones);
    if (input.stock) {
      await ctx.query(
        sql`INSERT INTO stock_history (product_id, delta, stock_after, reason, actor_id) VALUES (${id}, ${input.stock}, ${input.stock}, 'initial stock', ${actor.userId})`,
      );
    }
    await attachUploads(ctx, input.images ?? []);
    return toProduct((await findProduct(ctx, id))!);
  });
}

export async function updateProduct(ctx: Ctx, input: ParsedInputOf<'products:update'>): Promise<ResultOf<'products:update'>> {
  const actor = actorOf(ctx);
  return changeCatalog(ctx, async (ctx) => {
    const p = await loadCatalogProduct(ctx, input.id, true);
    // Only a move: a product already in a category being deleted is the delete's to move, and it waits for this one.
    if (input.categoryId && input.categoryId !== p.category_id) await assertCategory(ctx, input.categoryId);
    await mapConstraintErrors(
      () =>
        ctx.query(
          sql`UPDATE products SET sku = ${input.sku ?? p.sku}, name_ar = ${input.name?.ar ?? p.name_ar}, name_en = ${input.name?.en ?? p.name_en},
                     description_ar = ${input.description?.ar ?? p.description_ar}, description_en = ${input.description?.en ?? p.description_en},
                     category_id = ${input.categoryId ?? p.category_id}, price_minor = ${input.price ?? p.price_minor},
                     compare_at_minor = ${input.compareAtPrice === undefined ? p.compare_at_minor : input.compareAtPrice}, unit = ${input.unit ?? p.unit},
                     units_per_pack = ${input.unitsPerPack ?? p.units_per_pack}, min_order_qty = ${input.minOrderQty ?? p.min_order_qty},
                     low_stock_threshold = ${input.lowStockThreshold ?? p.low_stock_threshold}, images = ${input.images ?? p.images},
                     featured = ${input.featured ?? p.featured}, status = ${input.status ?? p.status}, updated_at = now()
               WHERE id = ${p.id}`,
        ),
      SKU_TAKEN,
    );
    if (input.zoneIds)
      await setProductZones(
        ctx,
        p.id,
        await zonesFor(
          ctx,
          p.vendor_id,
          mergeZones(actor, p.zone_ids, input.zoneIds, (z) => z),
        ),
      );
    if (input.images) await attachUploads(ctx, input.images);
    // Shops watching the zone learn a new price the way they learn new stock.
    if ((input.price !== undefined && input.price !== p.price_minor) || input.zoneIds) await markStockChanged(ctx, [p.id]);
    return toProduct((await findProduct(ctx, p.id))!);
  });
}

export async function deleteProduct(ctx: Ctx, { id }: ParsedInputOf<'products:delete'>): Promise<ResultOf<'products:delete'>> {
  return changeCatalog(ctx, async (ctx) => {
    await loadCatalogProduct(ctx, id, true);
    await ctx.query(sql`UPDATE products SET deleted_at = now(), updated_at = now() WHERE id = ${id}`);
    return { id };
  });
}
