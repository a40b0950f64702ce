import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { MAX_PRICE_MINOR, MAX_QUANTITY } from '../../protocol/common.js';
import { sql } from '../../db/sql.js';
import type { CategoryRow, ImportBatchRow, ImportJobRow, ProductRow, UploadRow, ZoneRow } from '../../db/tables.js';
import { rooms, type Actor } from '../auth/actor.js';
import type { Deps } from '../deps.js';
import { jobCtx } from '../jobs/job-context.js';
import type { JobInfo } from '../jobs/jobs.js';
import { adminZones, zoneScope } from '../auth/zone-scope.js';
import { audit } from '../audit.js';
import { AppError, notFound } from '../errors.js';
import { tell } from '../outbox/outbox.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import { saveExport } from '../uploads/exports.js';
import { FOLDERS } from '../uploads/uploads.service.js';
import { isAdmin } from '../auth/zone-scope.js';
import { formatCsv, parseCsv, unneutralise } from './csv.js';
import { assertCatalogReach, changeCatalog } from './products.service.js';
import { lockCategories, lockProducts } from './product-locks.js';
import { moveStock } from './stock.service.js';
import { markStockChanged } from '../outbox/outbox.js';

type Report = ResultOf<'products:import'>;
type RowError = Report['errors'][number];

export const CSV_COLUMNS = [
  'sku',
  'name_ar',
  'name_en',
  'description_ar',
  'description_en',
  'category',
  'unit',
  'units_per_pack',
  'price',
  'compare_at_price',
  'min_order_qty',
  'stock',
  'low_stock_threshold',
  'featured',
  'status',
  'zones',
] as const;

/** Whole numbers, bounded like the same fields of products:create so every total stays a safe integer. */
const int = (min: number, max: number) => z.string().trim().regex(/^\d+$/, 'a whole number').transform(Number).pipe(z.int().min(min).max(max));
const optionalInt = (min: number, max: number, fallback: number | null) =>
  z
    .string()
    .trim()
    .transform((s) => (s === '' ? fallback : s))
    .pipe(z.union([z.null(), z.number(), int(min, max)]));

const Row = z.object({
  sku: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, '1–64 letters, digits, . _ or -'),
  name_ar: z.string().trim().min(1, 'required').max(500),
  name_en: z.string().trim().min(1, 'required').max(500),
  description_ar: z.string().max(5000),
  description_en: z.string().max(5000),
  category: z.string().trim().min(1, 'required'),
  unit: z.enum(['PIECE', 'PACK', 'CARTON']),
  units_per_pack: optionalInt(1, 10_000, 1),
  price: int(0, MAX_PRICE_MINOR),
  compare_at_price: optionalInt(0, MAX_PRICE_MINOR, null),
  min_order_qty: optionalInt(1, MAX_QUANTITY, 1),
  stock: optionalInt(0, 10_000_000, 0),
  low_stock_threshold: optionalInt(0, 10_000_000, 0),
  featured: z
    .string()
    .trim()
    .toLowerCase()
    .transform((s) => s === 'true' || s === '1' || s === 'yes'),
  status: z
    .string()
    .trim()
    .transform((s) => s || 'ACTIVE')
    .pipe(z.enum(['ACTIVE', 'DRAFT'])),
  zones: z.string().trim(),
});
type Row = z.output<typeof Row>;

async function vendorFor(ctx: Ctx, requested: string | undefined): Promise<string> {
  const actor = actorOf(ctx);
  const vendorId = isAdmin(actor.role) ? requested : (requested ?? actor.vendorId);
  if (!vendorId) throw new AppError('BAD_REQUEST', 'name the vendorId');
  await assertCatalogReach(ctx, vendorId);
  return vendorId;
}

interface Checked {
  rows: Array<{ line: number; row: Row; categoryId: string; zoneIds: string[] }>;
  errors: RowError[];
  total: number;
}

/**
 * Lets the event loop read sockets and run timers. The embedded database runs in this thread and answers without
 * ever yielding to I/O, so a long chain of awaited statements would starve every other call without this.
 */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));
const CHECK_SLICE = 2_000;

/**
 * Checks every row before anything is written: shape, category, zones, and SKUs repeated in the file. A zone-limited
 * admin's rows name only its zones (blank: those the vendor serves among them) and never a product outside them.
 */
async function check(ctx: Ctx, vendorId: string, records: string[][]): Promise<Checked> {
  const actor = actorOf(ctx);
  const limit = adminZones(actor);
  const [header, ...lines] = records.map((r) => r.map(unneutralise));
  const errors: RowError[] = [];
  const missing = CSV_COLUMNS.filter((c) => !header?.map((h) => h.trim()).includes(c));
  if (!header || missing.length) return { rows: [], errors: [{ row: 1, field: null, message: `missing columns: ${missing.join(', ')}` }], total: lines.length };
  const index = Object.fromEntries(header.map((h, i) => [h.trim(), i]));
  const categoryRows = await ctx.query<Pick<CategoryRow, 'slug' | 'id'>>(sql`SELECT slug, id FROM categories`);
  const zoneRows = await ctx.query<Pick<ZoneRow, 'code' | 'id'>>(
    sql`SELECT z.code, z.id FROM vendor_zones vz JOIN zones z ON z.id = vz.zone_id WHERE vz.vendor_id = ${vendorId}`,
  );
  const categories = new Map(categoryRows.map((c) => [c.slug, c.id]));
  const zones = new Map(zoneRows.map((z) => [z.code, z.id]));
  const foreign = new Set(
    limit
      ? (
          await ctx.query<Pick<ProductRow, 'sku'>>(
            sql`SELECT sku FROM products p WHERE p.vendor_id = ${vendorId} AND NOT ${zoneScope(actor, 'product', sql`p.id`)}`,
          )
        ).map((p) => p.sku)
      : [],
  );
  const seen = new Map<string, number>();
  const rows: Checked['rows'] = [];
  for (const [i, fields] of lines.entries()) {
    if (i % CHECK_SLICE === CHECK_SLICE - 1) await breathe();
    const line = i + 2;
    const raw = Object.fromEntries(CSV_COLUMNS.map((c) => [c, fields[index[c]!] ?? '']));
    const parsed = Row.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) errors.push({ row: line, field: String(issue.path[0] ?? ''), message: issue.message });
      continue;
    }
    const row = parsed.data;
    const categoryId = categories.get(row.category);
    if (!categoryId) errors.push({ row: line, field: 'category', message: `no category with slug ${row.category}` });
    const codes = row.zones ? row.zones.split('|').map((z) => z.trim()) : [...zones.keys()].filter((c) => !limit || limit.includes(zones.get(c)!));
    const unknown = codes.filter((c) => !zones.has(c));
    if (unknown.length) errors.push({ row: line, field: 'zones', message: `the vendor does not serve ${unknown.join(', ')}` });
    const outside = limit ? codes.filter((c) => zones.has(c) && !limit.includes(zones.get(c)!)) : [];
    if (outside.length) errors.push({ row: line, field: 'zones', message: `outside your zones: ${outside.join(', ')}` });
    if (foreign.has(row.sku)) errors.push({ row: line, field: 'sku', message: 'a product outside your zones has this SKU' });
    if (seen.has(row.sku)) errors.push({ row: line, field: 'sku', message: `repeats the SKU of row ${seen.get(row.sku)}` });
    seen.set(row.sku, line);
    if (categoryId && !unknown.length && errors.at(-1)?.row !== line) rows.push({ line, row, categoryId, zoneIds: codes.map((c) => zones.get(c)!) });
  }
  return { rows, errors, total: lines.length };
}

/**
 * Rows written per transaction. On the embedded database one transaction holds everyone else up, so a large
 * import is written in batches that each take well under a second, and other calls run in between.
 */
const BATCH = 500;

/** What a batch changed, so a later failure can undo it: products it created, and how updated ones were before. */
interface Written {
  /** When the batch wrote (its transaction's `now()`, as text to keep the microseconds): what still carries it is as the batch left it. */
  at: string;
  /** The file line of its last row: a later try goes on after it. */
  lastLine: number;
  created: string[];
  updated: Array<{ id: string; before: Record<string, unknown>; zoneIds: string[]; stockDelta: number }>;
}

const PRODUCT_FIELDS = sql`name_ar, name_en, description_ar, description_en, category_id, unit, units_per_pack, price_minor, compare_at_minor, min_order_qty,
  low_stock_threshold, featured, status`;

/** Another try of the same import has moved on (its node was taken for dead while it still ran): this one stops. */
class Superseded extends Error {
  override name = 'Superseded';
}

/**
 * Holds the import's row for the batch's transaction and checks that this try writes the batch due next, so two
 * tries of one import (one whose node was only slow, and its retry) never write a batch twice.
 */
async function claimBatch(ctx: TxCtx, importId: string, batch: number): Promise<void> {
  const [j] = await ctx.query<Pick<ImportJobRow, 'status' | 'failure'> & { batches: number }>(
    sql`SELECT j.status, j.failure, (SELECT count(*)::int FROM import_batches b WHERE b.import_id = j.id) AS batches
          FROM import_jobs j WHERE j.id = ${importId} FOR UPDATE`,
  );
  if (!j || j.status !== 'RUNNING' || j.failure !== null || j.batches !== batch) throw new Superseded(`import ${importId} moved on without this try`);
}

/**
 * One batch, set-based: lock its categories (lockCategories), snapshot and lock the rows it updates, upsert them all,
 * replace their zones, record stock moves, and record what it wrote (import_batches) in the same transaction. The
 * products' lock is the upsert's own (no key column changes), which does not wait for the key-share locks of
 * checkouts writing order items of those products.
 */
async function writeBatch(
  ctx: Ctx,
  importId: string,
  batchNo: number,
  vendorId: string,
  batch: Checked['rows'],
  onWritten: (ctx: TxCtx, w: Written) => Promise<void>,
): Promise<Written> {
  const actor = actorOf(ctx);
  return changeCatalog(ctx, async (ctx) => {
    await claimBatch(ctx, importId, batchNo);
    await lockCategories(
      ctx,
      batch.map((b) => b.categoryId),
    );
    const skus = batch.map((b) => b.row.sku);
    const before = await ctx.query<Pick<ProductRow, 'id' | 'sku' | 'stock'> & { row: Record<string, unknown>; zone_ids: string[] }>(
      sql`SELECT p.id, p.sku, p.stock, to_jsonb(p) - 'search_text' - 'search_tsv' AS row,
                 coalesce((SELECT array_agg(pz.zone_id) FROM product_zones pz WHERE pz.product_id = p.id), '{}') AS zone_ids
            FROM products p WHERE p.vendor_id = ${vendorId} AND p.sku = ANY(${skus}::text[]) ORDER BY p.id FOR NO KEY UPDATE`,
    );
    const col = <T>(f: (r: Row, b: Checked['rows'][number]) => T) => batch.map((b) => f(b.row, b));
    const written = await ctx.query<Pick<ProductRow, 'id' | 'sku'>>(
      sql`INSERT INTO products (vendor_id, sku, ${PRODUCT_FIELDS}, stock)
          SELECT ${vendorId}, * FROM unnest(${skus}::text[], ${col((r) => r.name_ar)}::text[], ${col((r) => r.name_en)}::text[],
                                           ${col((r) => r.description_ar)}::text[], ${col((r) => r.description_en)}::text[],
                                           ${col((_, b) => b.categoryId)}::uuid[], ${col((r) => r.unit)}::text[], ${col((r) => r.units_per_pack)}::int[],
                                           ${col((r) => r.price)}::bigint[], ${col((r) => r.compare_at_price)}::bigint[], ${col((r) => r.min_order_qty)}::int[],
                                           ${col((r) => r.low_stock_threshold)}::int[], ${col((r) => r.featured)}::bool[], ${col((r) => r.status)}::text[],
                                           ${col((r) => r.stock ?? 0)}::int[])
          ON CONFLICT (vendor_id, sku) DO UPDATE SET (${PRODUCT_FIELDS}, stock, deleted_at, updated_at) =
            (EXCLUDED.name_ar, EXCLUDED.name_en, EXCLUDED.description_ar, EXCLUDED.description_en, EXCLUDED.category_id, EXCLUDED.unit, EXCLUDED.units_per_pack,
             EXCLUDED.price_minor, EXCLUDED.compare_at_minor, EXCLUDED.min_order_qty, EXCLUDED.low_stock_threshold, EXCLUDED.featured, EXCLUDED.status,
             EXCLUDED.stock, NULL, now())
          RETURNING id, sku`,
    );
    const idOf = new Map(written.map((w) => [w.sku, w.id]));
    const old = new Map(before.map((b) => [b.sku, b]));
    const existed = new Set(before.map((b) => b.id));
    const ids = batch.map((b) => idOf.get(b.row.sku)!);
    // A zone-limited admin's row replaces only its own zones of the product.
    const zones = adminZones(actor);
    await ctx.query(sql`DELETE FROM product_zones WHERE product_id = ANY(${ids}::uuid[]) AND ${zones ? sql`zone_id = ANY(${zones}::uuid[])` : sql`true`}`);
    await addProductZones(
      ctx,
      batch.flatMap((b) => b.zoneIds.map((z) => [idOf.get(b.row.sku)!, z] as const)),
    );
    const moves = batch
      .map((b) => ({ id: idOf.get(b.row.sku)!, after: b.row.stock ?? 0, delta: (b.row.stock ?? 0) - (old.get(b.row.sku)?.stock ?? 0) }))
      .filter((m) => m.delta !== 0);
    await ctx.query(
      sql`INSERT INTO stock_history (product_id, delta, stock_after, reason, actor_id)
          SELECT unnest(${moves.map((m) => m.id)}::uuid[]), unnest(${moves.map((m) => m.delta)}::int[]), unnest(${moves.map((m) => m.after)}::int[]), 'import', ${actor.userId}`,
    );
    // Shops see stock changes of products they could already order; a new product has no watchers yet.
    await markStockChanged(
      ctx,
      moves.filter((m) => existed.has(m.id)).map((m) => m.id),
    );
    const delta = new Map(moves.map((m) => [m.id, m.delta]));
    const [{ at }] = (await ctx.query<{ at: string }>(sql`SELECT now()::text AS at`)) as [{ at: string }];
    const w: Written = {
      at,
      lastLine: batch.at(-1)!.line,
      created: ids.filter((id) => !existed.has(id)),
      updated: before.map((b) => ({ id: b.id, before: b.row, zoneIds: b.zone_ids, stockDelta: delta.get(b.id) ?? 0 })),
    };
    await ctx.query(
      sql`INSERT INTO import_batches (import_id, batch, last_line, written) VALUES (${importId}, ${batchNo}, ${w.lastLine}, ${JSON.stringify(w)})`,
    );
    await onWritten(ctx, w);
    return w;
  });
}

/** Adds (product, zone) pairs, in one statement however many. */
async function addProductZones(ctx: TxCtx, pairs: ReadonlyArray<readonly [productId: string, zoneId: string]>): Promise<void> {
  await ctx.query(
    sql`INSERT INTO product_zones (product_id, zone_id) SELECT unnest(${pairs.map((p) => p[0])}::uuid[]), unnest(${pairs.map((p) => p[1])}::uuid[])`,
  );
}

/**
 * Undoes written batches after a later one failed, newest first: created products go (or, if something already
 * refers to one, are hidden), updated ones get their fields and zones back, and their stock moves are reversed.
 * Only products still as their batch left them are touched: an edit or a sale made meanwhile is never overwritten.
 * Each batch's record goes once it is undone, so a try that stops halfway leaves the rest for the next one (which
 * may count a product it finds already undone as changed meanwhile). Answers how many products were kept so.
 */
async function undo(ctx: Ctx, importId: string, done: Written[]): Promise<number> {
  const actor = actorOf(ctx);
  let kept = 0;
  for (const w of [...done].reverse()) {
    await breathe();
    const untouched = sql`p.updated_at = ${w.at}::timestamptz`;
    await changeCatalog(ctx, async (ctx) => {
      if (!w.updated.length) return;
      await lockProducts(ctx, sql`p.id = ANY(${w.updated.map((u) => u.id)}::uuid[])`);
      const restored = await ctx.query<Pick<ProductRow, 'id'>>(
        sql`UPDATE products p SET (${PRODUCT_FIELDS}, deleted_at, updated_at) =
              (s.name_ar, s.name_en, s.description_ar, s.description_en, s.category_id, s.unit, s.units_per_pack, s.price_minor, s.compare_at_minor,
               s.min_order_qty, s.low_stock_threshold, s.featured, s.status, s.deleted_at, now())
              FROM jsonb_populate_recordset(NULL::products, ${JSON.stringify(w.updated.map((u) => u.before))}::jsonb) s
             WHERE p.id = s.id AND ${untouched} AND p.stock - ${sql`(SELECT d.delta FROM unnest(${w.updated.map((u) => u.id)}::uuid[], ${w.updated.map((u) => u.stockDelta)}::int[]) AS d(id, delta) WHERE d.id = p.id)`} >= 0
            RETURNING p.id`,
      );
      const back = new Set(restored.map((r) => r.id));
      const undone = w.updated.filter((u) => back.has(u.id));
      kept += w.updated.length - undone.length;
      await ctx.query(sql`DELETE FROM product_zones WHERE product_id = ANY(${undone.map((u) => u.id)}::uuid[])`);
      await addProductZones(
        ctx,
        undone.flatMap((u) => u.zoneIds.map((z) => [u.id, z] as const)),
      );
      const moved = undone.filter((u) => u.stockDelta !== 0);
      if (moved.length)
        await moveStock(
          ctx,
          moved.map((u) => ({ productId: u.id, delta: -u.stockDelta, reason: 'import undone', actorId: actor.userId })),
        );
    });
    if (w.created.length) kept += await undoCreated(ctx, w);
    await ctx.query(sql`DELETE FROM import_batches WHERE import_id = ${importId} AND last_line = ${w.lastLine}`);
  }
  return kept;
}

/**
 * Removes the products a batch created, or hides them all when one of them is already referred to or being ordered
 * right now (its lock refused at once, not waited for); answers how many were changed meanwhile.
 */
async function undoCreated(ctx: Ctx, w: Written): Promise<number> {
  const created = sql`id = ANY(${w.created}::uuid[]) AND updated_at = ${w.at}::timestamptz`;
  const gone = await changeCatalog(ctx, async (ctx) => {
    await lockProducts(ctx, created, 'UPDATE NOWAIT');
    await ctx.query(sql`DELETE FROM stock_history WHERE product_id IN (SELECT id FROM products WHERE ${created})`);
    return (await ctx.query<Pick<ProductRow, 'id'>>(sql`DELETE FROM products WHERE ${created} RETURNING id`)).length;
  }).catch(() => null);
  const hidden =
    gone ??
    (
      await changeCatalog(ctx, async (ctx) => {
        await lockProducts(ctx, created);
        return ctx.query(sql`UPDATE products SET deleted_at = now(), updated_at = now() WHERE ${created} RETURNING id`);
      })
    ).length;
  return w.created.length - hidden;
}

/** The queue whose jobs run imports; an import whose tries ran out lands in IMPORT_DEAD_QUEUE and is failed. */
export const IMPORT_QUEUE = 'import';
export const IMPORT_DEAD_QUEUE = 'import-dead';

/** What an import job carries: the import, and who started it (every try acts as them, within their reach). */
interface ImportJob {
  importId: string;
  actor: Actor;
}

/**
 * Makes this node a worker of imports. A try whose node dies stays active until IMPORT_TIMEOUT_S has passed, is
 * then failed by the queue's maintenance and tried again (here after a restart, or on another node), going on
 * after the last batch written; one whose tries run out is undone and FAILED. An import never stays RUNNING.
 */
export async function startImports(deps: Deps): Promise<void> {
  const policy = { retryLimit: 3, retryDelayS: 5, expireInS: deps.config.jobs.importTimeoutS, deadLetter: IMPORT_DEAD_QUEUE };
  await deps.jobs.work<ImportJob>(IMPORT_QUEUE, (data, job) => importTry(deps, data, job), { policy, concurrency: 2 });
  // The last word on an import keeps trying for hours (a database that is down), so none is left RUNNING.
  await deps.jobs.work<ImportJob>(IMPORT_DEAD_QUEUE, (data, job) => abandonImport(deps, data, job), { policy: { retryLimit: 10, retryDelayS: 30 } });
}

/** Starts an import; a job does the work after the answer, reported by import:progress pushes and kept in import_jobs. */
export async function startImport(ctx: Ctx, input: ParsedInputOf<'products:import'>): Promise<ResultOf<'products:import'>> {
  const actor = actorOf(ctx);
  const vendorId = await vendorFor(ctx, input.vendorId);
  const [upload] = await ctx.query<Pick<UploadRow, 'path'>>(
    sql`SELECT path FROM uploads WHERE id = ${input.uploadId} AND owner_id = ${actor.userId} AND kind = 'csv' AND path LIKE ${`${FOLDERS.csv}/%`}`,
  );
  if (!upload) throw notFound('CSV upload');
  // A file that is not well-formed CSV is refused now, naming its line, before any job starts.
  parseCsv(await readFile(join(ctx.deps.config.uploadDir, upload.path), 'utf8'));
  const jobId = randomUUID();
  await ctx.tx(async (ctx) => {
    await ctx.query(
      sql`INSERT INTO import_jobs (id, vendor_id, upload_id, actor_id, mode, status) VALUES (${jobId}, ${vendorId}, ${input.uploadId}, ${actor.userId}, ${input.mode}, 'RUNNING')`,
    );
    await ctx.query(sql`UPDATE uploads SET attached_at = now() WHERE id = ${input.uploadId}`);
    await ctx.deps.jobs.send(ctx, IMPORT_QUEUE, { importId: jobId, actor } satisfies ImportJob);
  });
  return { jobId, status: 'RUNNING', total: 0, processed: 0, created: 0, updated: 0, errors: [] };
}

type Running = Pick<ImportJobRow, 'id' | 'vendor_id' | 'mode' | 'status' | 'total' | 'failure'> & Pick<UploadRow, 'path'>;

async function loadImport(ctx: Ctx, importId: string): Promise<Running | undefined> {
  const [j] = await ctx.query<Running>(
    sql`SELECT j.id, j.vendor_id, j.mode, j.status, j.total, j.failure, u.path FROM import_jobs j JOIN uploads u ON u.id = j.upload_id WHERE j.id = ${importId}`,
  );
  return j;
}

/** The batches earlier tries wrote, in order. */
async function writtenBatches(ctx: Ctx, importId: string): Promise<Written[]> {
  const rows = await ctx.query<Pick<ImportBatchRow, 'written'>>(sql`SELECT written FROM import_batches WHERE import_id = ${importId} ORDER BY batch`);
  return rows.map((r) => r.written as Written);
}

/** One try of an import: from the start, or after the batches earlier tries wrote; nothing when it has ended. */
async function importTry(deps: Deps, { importId, actor }: ImportJob, job: JobInfo): Promise<void> {
  const ctx = jobCtx(deps, job.id, actor);
  const imp = await loadImport(ctx, importId);
  if (!imp || imp.status !== 'RUNNING') return;
  const done = await writtenBatches(ctx, importId);
  // An earlier try was undoing when it stopped: finish undoing.
  if (imp.failure) return fail(ctx, report(imp, done), done, imp.failure);
  const records = parseCsv(await readFile(join(deps.config.uploadDir, imp.path), 'utf8'));
  await runImport(ctx, imp, records, done, job.signal);
}

/** An import whose tries ran out (its nodes kept dying or the database kept failing): undone and FAILED. */
async function abandonImport(deps: Deps, { importId, actor }: ImportJob, job: JobInfo): Promise<void> {
  const ctx = jobCtx(deps, job.id, actor);
  const imp = await loadImport(ctx, importId);
  if (!imp || imp.status !== 'RUNNING') return;
  const done = await writtenBatches(ctx, importId);
  await fail(ctx, report(imp, done), done, imp.failure ?? 'the import was interrupted too often', true);
}

/** Tells the import's author how far it got, once the transaction that got it there commits. */
const progress = (ctx: TxCtx, r: Report) => tell(ctx, [rooms.user(actorOf(ctx).userId)], 'import:progress', r);

/** The report once a batch has been written. */
const after = (r: Report, w: Written): Report => {
  const processed = r.processed + w.created.length + w.updated.length;
  const created = r.created + w.created.length;
  return { ...r, processed, created, updated: processed - created };
};

/** The report of a running import after the batches written so far. */
const report = (imp: Running, done: Written[]): Report =>
  done.reduce(after, { jobId: imp.id, status: 'RUNNING', total: imp.total, processed: 0, created: 0, updated: 0, errors: [] });

/**
 * Records how the import ended, once (a try that finds it ended does nothing), and tells its author. Not in
 * `ctx.tx`: the record must land even when the author's session ended meanwhile (which refuses a transaction,
 * and leaves nobody to tell).
 */
async function finish(ctx: Ctx, r: Report, auditedVendor: string | null): Promise<void> {
  const ended = await ctx.deps.db.tx(async (tx) => {
    const [row] = await tx.query(
      sql`UPDATE import_jobs SET status = ${r.status}, total = ${r.total}, created = ${r.created}, updated = ${r.updated}, errors = ${JSON.stringify(r.errors)},
                                 finished_at = now() WHERE id = ${r.jobId} AND status = 'RUNNING' RETURNING id`,
    );
    if (!row) return false;
    await tx.query(sql`DELETE FROM import_batches WHERE import_id = ${r.jobId}`);
    if (auditedVendor)
      await audit(
        { query: tx.query, actor: ctx.actor, clientAddress: null },
        'PRODUCT_IMPORT',
        { type: 'vendor', id: auditedVendor },
        { jobId: r.jobId, created: r.created, updated: r.updated, errors: r.errors.length },
      );
    return true;
  });
  if (ended) await ctx.tx((ctx) => progress(ctx, r)).catch(() => undefined);
}

/**
 * Fails an import: undoes the batches written (marking it failing first, so a try that stops halfway is finished
 * by the next) and records FAILED with `cause` and what was kept, or with the row errors alone when `cause` is null.
 * The last resort (`last`) records FAILED even when the undo cannot be done, saying so.
 */
async function fail(ctx: Ctx, r: Report, done: Written[], cause: string | null, last = false): Promise<void> {
  let message = cause && `${cause}; nothing was imported`;
  if (done.length) {
    if (cause) await ctx.query(sql`UPDATE import_jobs SET failure = ${cause} WHERE id = ${r.jobId}`);
    try {
      const kept = await undo(ctx, r.jobId, done);
      if (cause && kept) message = `${cause}; the import was undone except for ${kept} products changed by someone else meanwhile`;
    } catch (err) {
      if (!last) throw err;
      ctx.log.error({ importId: r.jobId, cause: err instanceof Error ? err.message : String(err) }, 'an abandoned import could not be undone');
      message = `${cause}; what it wrote could not be undone`;
    }
  }
  const errors = message ? [...r.errors, { row: 0, field: null, message }] : r.errors;
  await finish(ctx, { ...r, status: 'FAILED', processed: 0, created: 0, updated: 0, errors }, null);
}

/**
 * Checks everything, then writes in batches after those earlier tries wrote. A batch that fails when written (a
 * constraint, a category deleted meanwhile) undoes the batches before it, so the import still lands whole or not
 * at all, in either mode. A try told to stop (its node is stopping), or overtaken by another try, stops between
 * batches and leaves the rest to the next try.
 */
async function runImport(ctx: Ctx, imp: Running, records: string[][], done: Written[], signal: AbortSignal): Promise<void> {
  const checked = await check(ctx, imp.vendor_id, records);
  let result: Report = { ...report(imp, done), total: checked.total, errors: checked.errors };
  if (checked.errors.length && imp.mode === 'all-or-nothing') return fail(ctx, result, done, null);
  const lastLine = done.at(-1)?.lastLine ?? 0;
  const rows = checked.rows.filter((r) => r.line > lastLine);
  await ctx.query(sql`UPDATE import_jobs SET total = ${checked.total} WHERE id = ${imp.id}`);
  try {
    for (let i = 0; i < rows.length; i += BATCH) {
      await breathe();
      if (signal.aborted) throw new Superseded('this node is stopping');
      const sofar = result;
      const w = await writeBatch(ctx, imp.id, done.length, imp.vendor_id, rows.slice(i, i + BATCH), (ctx, w) => progress(ctx, after(sofar, w)));
      done.push(w);
      result = after(result, w);
    }
  } catch (err) {
    if (err instanceof Superseded || signal.aborted) throw err;
    // The message only: a failed statement carries the rows' values, which stay out of the logs.
    ctx.log.error({ jobId: imp.id, cause: err instanceof Error ? err.message : String(err) }, 'an import batch failed; undoing the batches written');
    return fail(ctx, result, done, 'a row could not be written');
  }
  await finish(ctx, { ...result, status: 'DONE' }, imp.vendor_id);
}

export async function exportProducts(ctx: Ctx, input: ParsedInputOf<'products:export'>): Promise<ResultOf<'products:export'>> {
  const vendorId = await vendorFor(ctx, input.vendorId);
  const rows = await ctx.query<Record<(typeof CSV_COLUMNS)[number], unknown>>(
    sql`SELECT p.sku, p.name_ar, p.name_en, p.description_ar, p.description_en, c.slug AS category, p.unit, p.units_per_pack, p.price_minor AS price,
               p.compare_at_minor AS compare_at_price, p.min_order_qty, p.stock, p.low_stock_threshold, p.featured, p.status,
               coalesce((SELECT string_agg(z.code, '|' ORDER BY z.code) FROM product_zones pz JOIN zones z ON z.id = pz.zone_id WHERE pz.product_id = p.id), '') AS zones
          FROM products p JOIN categories c ON c.id = p.category_id
         WHERE p.vendor_id = ${vendorId} AND p.deleted_at IS NULL AND ${zoneScope(actorOf(ctx), 'product', sql`p.id`)} ORDER BY p.sku`,
  );
  const url = await saveExport(ctx, formatCsv([[...CSV_COLUMNS], ...rows.map((r) => CSV_COLUMNS.map((c) => r[c]))]));
  return { url, rows: rows.length };
}
