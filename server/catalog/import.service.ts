import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Tx } from '../../db/tx.js';
import { rooms } from '../auth/actor.js';
import { adminZones, zoneScope } from '../auth/zone-scope.js';
import { audit } from '../audit.js';
import { AppError, notFound } from '../errors.js';
import { actorOf, type Actor, type Ctx } from '../rpc/context.js';
import { saveExport } from '../uploads/exports.js';
import { FOLDERS } from '../uploads/uploads.service.js';
import { isAdmin } from '../users/scope.js';
import { formatCsv, parseCsv } from './csv.js';
import { TREE_CACHE } from './categories.service.js';
import { assertCatalogReach } from './products.service.js';
import { moveStock } from './stock.service.js';

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

const int = (min: number) => z.string().trim().regex(/^\d+$/, 'a whole number').transform(Number).pipe(z.int().min(min).max(Number.MAX_SAFE_INTEGER));
const optionalInt = (min: number, fallback: number | null) =>
  z
    .string()
    .trim()
    .transform((s) => (s === '' ? fallback : s))
    .pipe(z.union([z.null(), z.number(), int(min)]));

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
  units_per_pack: optionalInt(1, 1),
  price: int(0),
  compare_at_price: optionalInt(0, null),
  min_order_qty: optionalInt(1, 1),
  stock: optionalInt(0, 0),
  low_stock_threshold: optionalInt(0, 0),
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

async function vendorFor(ctx: Ctx, actor: Actor, requested: string | undefined): Promise<string> {
  const vendorId = isAdmin(actor.role) ? requested : (requested ?? actor.vendorId);
  if (!vendorId) throw new AppError('BAD_REQUEST', 'name the vendorId');
  await ctx.read((r) => assertCatalogReach(r, actor, vendorId));
  return vendorId;
}

interface Checked {
  rows: Array<{ line: number; row: Row; categoryId: string; zoneIds: string[] }>;
  errors: RowError[];
  total: number;
}

/**
 * Checks every row before anything is written: shape, category, zones, and SKUs repeated in the file. A zone-limited
 * admin's rows name only its zones (blank: those the vendor serves among them) and never a product outside them.
 */
async function check(tx: Tx, actor: Actor, vendorId: string, text: string): Promise<Checked> {
  const limit = adminZones(actor);
  const [header, ...lines] = parseCsv(text);
  const errors: RowError[] = [];
  const missing = CSV_COLUMNS.filter((c) => !header?.map((h) => h.trim()).includes(c));
  if (!header || missing.length) return { rows: [], errors: [{ row: 1, field: null, message: `missing columns: ${missing.join(', ')}` }], total: lines.length };
  const index = Object.fromEntries(header.map((h, i) => [h.trim(), i]));
  const categories = new Map((await tx.query<{ slug: string; id: string }>('SELECT slug, id FROM categories')).map((c) => [c.slug, c.id]));
  const zones = new Map(
    (
      await tx.query<{ code: string; id: string }>('SELECT z.code, z.id FROM vendor_zones vz JOIN zones z ON z.id = vz.zone_id WHERE vz.vendor_id = $1', [
        vendorId,
      ])
    ).map((z) => [z.code, z.id]),
  );
  const params: unknown[] = [vendorId];
  const foreign = new Set(
    limit
      ? (
          await tx.query<{ sku: string }>(
            `SELECT sku FROM products p WHERE p.vendor_id = $1 AND NOT ${zoneScope(actor, 'product', 'p.id', (v) => `$${params.push(v)}`)}`,
            params,
          )
        ).map((p) => p.sku)
      : [],
  );
  const seen = new Map<string, number>();
  const rows: Checked['rows'] = [];
  lines.forEach((fields, i) => {
    const line = i + 2;
    const raw = Object.fromEntries(CSV_COLUMNS.map((c) => [c, fields[index[c]!] ?? '']));
    const parsed = Row.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) errors.push({ row: line, field: String(issue.path[0] ?? ''), message: issue.message });
      return;
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
  });
  return { rows, errors, total: lines.length };
}

async function upsert(ctx: Ctx, tx: Tx, vendorId: string, { row, categoryId, zoneIds }: Checked['rows'][number]): Promise<'created' | 'updated'> {
  const actor = actorOf(ctx);
  const stock = row.stock ?? 0;
  const [existing] = await tx.query<{ id: string; stock: number }>('SELECT id, stock FROM products WHERE vendor_id = $1 AND sku = $2 FOR UPDATE', [
    vendorId,
    row.sku,
  ]);
  const fields = [
    row.name_ar,
    row.name_en,
    row.description_ar,
    row.description_en,
    categoryId,
    row.unit,
    row.units_per_pack,
    row.price,
    row.compare_at_price,
    row.min_order_qty,
    row.low_stock_threshold,
    row.featured,
    row.status,
  ];
  let id: string;
  if (existing) {
    id = existing.id;
    await tx.query(
      `UPDATE products SET name_ar = $2, name_en = $3, description_ar = $4, description_en = $5, category_id = $6, unit = $7, units_per_pack = $8, price_minor = $9,
              compare_at_minor = $10, min_order_qty = $11, low_stock_threshold = $12, featured = $13, status = $14, deleted_at = NULL, updated_at = now() WHERE id = $1`,
      [id, ...fields],
    );
    if (stock !== existing.stock) await moveStock(ctx.deps, tx, [{ productId: id, delta: stock - existing.stock, reason: 'import', actorId: actor.userId }]);
  } else {
    const [created] = await tx.query<{ id: string }>(
      `INSERT INTO products (vendor_id, sku, name_ar, name_en, description_ar, description_en, category_id, unit, units_per_pack, price_minor, compare_at_minor,
                             min_order_qty, low_stock_threshold, featured, status, stock)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
      [vendorId, row.sku, ...fields, stock],
    );
    id = created!.id;
    if (stock)
      await tx.query(`INSERT INTO stock_history (product_id, delta, stock_after, reason, actor_id) VALUES ($1, $2, $2, 'import', $3)`, [
        id,
        stock,
        actor.userId,
      ]);
  }
  // A zone-limited admin's row replaces only its own zones of the product.
  await tx.query('DELETE FROM product_zones WHERE product_id = $1 AND ($2::uuid[] IS NULL OR zone_id = ANY($2::uuid[]))', [id, adminZones(actor)]);
  await tx.query('INSERT INTO product_zones (product_id, zone_id) SELECT $1, unnest($2::uuid[])', [id, zoneIds]);
  return existing ? 'updated' : 'created';
}

/** Starts an import; the work goes on after the answer, reported by import:progress pushes and kept in import_jobs. */
export async function startImport(ctx: Ctx, input: ParsedInputOf<'products:import'>): Promise<ResultOf<'products:import'>> {
  const actor = actorOf(ctx);
  const vendorId = await vendorFor(ctx, actor, input.vendorId);
  const [upload] = await ctx.read((r) =>
    r.query<{ path: string }>(`SELECT path FROM uploads WHERE id = $1 AND owner_id = $2 AND kind = 'csv' AND path LIKE $3`, [
      input.uploadId,
      actor.userId,
      `${FOLDERS.csv}/%`,
    ]),
  );
  if (!upload) throw notFound('CSV upload');
  const text = await readFile(join(ctx.deps.config.uploadDir, upload.path), 'utf8');
  const jobId = randomUUID();
  await ctx.tx(async (tx) => {
    await tx.query(`INSERT INTO import_jobs (id, vendor_id, upload_id, actor_id, mode, status) VALUES ($1, $2, $3, $4, $5, 'RUNNING')`, [
      jobId,
      vendorId,
      input.uploadId,
      actor.userId,
      input.mode,
    ]);
    await tx.query('UPDATE uploads SET attached_at = now() WHERE id = $1', [input.uploadId]);
  });
  const started: Report = { jobId, status: 'RUNNING', total: 0, processed: 0, created: 0, updated: 0, errors: [] };
  setImmediate(() => {
    runImport(ctx, jobId, vendorId, input.mode, text).catch(async (err: unknown) => {
      ctx.log.error({ err, jobId }, 'import failed');
      await ctx.deps.db.query(`UPDATE import_jobs SET status = 'FAILED', finished_at = now() WHERE id = $1`, [jobId]).catch(() => undefined);
      report(ctx, { ...started, status: 'FAILED', errors: [{ row: 0, field: null, message: 'the import failed; nothing was imported' }] });
    });
  });
  return started;
}

const report = (ctx: Ctx, r: Report) => ctx.deps.io.to(rooms.user(actorOf(ctx).userId)).emit('import:progress', r);

async function runImport(ctx: Ctx, jobId: string, vendorId: string, mode: 'all-or-nothing' | 'partial', text: string): Promise<void> {
  const result = await ctx.tx(async (tx) => {
    ctx.deps.cache.invalidateAfter(tx, TREE_CACHE);
    const checked = await check(tx, actorOf(ctx), vendorId, text);
    const r: Report = { jobId, status: 'RUNNING', total: checked.total, processed: 0, created: 0, updated: 0, errors: checked.errors };
    if (checked.errors.length && mode === 'all-or-nothing') return { ...r, status: 'FAILED' as const };
    for (const row of checked.rows) {
      r[await upsert(ctx, tx, vendorId, row)]++;
      if (++r.processed % 200 === 0) report(ctx, r);
    }
    await audit(tx, ctx, 'PRODUCT_IMPORT', { type: 'vendor', id: vendorId }, { jobId, created: r.created, updated: r.updated, errors: r.errors.length });
    return { ...r, status: 'DONE' as const };
  });
  await ctx.deps.db.query(`UPDATE import_jobs SET status = $2, total = $3, created = $4, updated = $5, errors = $6, finished_at = now() WHERE id = $1`, [
    jobId,
    result.status,
    result.total,
    result.created,
    result.updated,
    JSON.stringify(result.errors),
  ]);
  report(ctx, result);
}

export async function exportProducts(ctx: Ctx, input: ParsedInputOf<'products:export'>): Promise<ResultOf<'products:export'>> {
  const actor = actorOf(ctx);
  const vendorId = await vendorFor(ctx, actor, input.vendorId);
  const params: unknown[] = [vendorId];
  const inZones = zoneScope(actor, 'product', 'p.id', (v) => `$${params.push(v)}`);
  const rows = await ctx.read((r) =>
    r.query<Record<(typeof CSV_COLUMNS)[number], unknown>>(
      `SELECT p.sku, p.name_ar, p.name_en, p.description_ar, p.description_en, c.slug AS category, p.unit, p.units_per_pack, p.price_minor AS price,
              p.compare_at_minor AS compare_at_price, p.min_order_qty, p.stock, p.low_stock_threshold, p.featured, p.status,
              coalesce((SELECT string_agg(z.code, '|' ORDER BY z.code) FROM product_zones pz JOIN zones z ON z.id = pz.zone_id WHERE pz.product_id = p.id), '') AS zones
         FROM products p JOIN categories c ON c.id = p.category_id WHERE p.vendor_id = $1 AND p.deleted_at IS NULL AND ${inZones} ORDER BY p.sku`,
      params,
    ),
  );
  const url = await saveExport(ctx, formatCsv([[...CSV_COLUMNS], ...rows.map((r) => CSV_COLUMNS.map((c) => r[c]))]));
  return { url, rows: rows.length };
}
