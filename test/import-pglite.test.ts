import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { upload } from './support/images.js';

let h: Harness;
let staff: Session, admin: Session;

beforeAll(async () => {
  h = await startHarness({ database: 'pglite', env: { UPLOAD_MAX_BYTES: String(20 * 1024 * 1024) } });
  [staff, admin] = await Promise.all([h.login('vendor1@demo.lilium'), h.login('admin@demo.lilium')]);
}, 60_000);
afterAll(() => h.close());

const HEADER =
  'sku,name_ar,name_en,description_ar,description_en,category,unit,units_per_pack,price,compare_at_price,min_order_qty,stock,low_stock_threshold,featured,status,zones';
const file = (tag: string, n: number, last?: string) =>
  [
    HEADER,
    ...Array.from(
      { length: n },
      (_, i) => `${last && i === n - 1 ? last : `${tag}-${i}`},سكر ناعم ${i},Fine sugar ${i},,,sugar,PACK,6,${100 + i},,1,${i % 50},2,false,ACTIVE,`,
    ),
  ].join('\n');

type Report = { status: string; total: number; created: number; updated: number; errors: unknown[] };

async function importFile(body: string): Promise<{ started: number; done: Promise<Report> }> {
  const up = await upload(h.url, staff.accessToken, Buffer.from(body), { kind: 'csv', filename: 'big.csv', type: 'text/csv' });
  expect(up.status).toBe(201);
  const done = new Promise<Report>((resolve) => staff.socket.on('import:progress', (r) => r.status !== 'RUNNING' && resolve(r)));
  await call(staff.socket, 'products:import', { uploadId: up.body.id, mode: 'all-or-nothing' });
  return { started: Date.now(), done };
}

test('a 20,000-row import on the embedded database lets other calls through, and lands whole', async () => {
  const tag = `B${randomUUID().slice(0, 6)}`;
  const { done } = await importFile(file(tag, 20_000));
  let settled = false;
  void done.then(() => (settled = true));
  const waits: number[] = [];
  while (!settled) {
    const t = Date.now();
    await call(admin.socket, 'settlements:list', { limit: 1 });
    waits.push(Date.now() - t);
    await new Promise((r) => setTimeout(r, 100));
  }
  staff.socket.off('import:progress');
  const report = await done;
  expect(report).toMatchObject({ status: 'DONE', total: 20_000, created: 20_000, updated: 0, errors: [] });
  expect(waits.length).toBeGreaterThan(1);
  expect(Math.max(...waits)).toBeLessThan(3_000);
  const [{ n, zoned, history }] = (await h.q<{ n: number; zoned: number; history: number }>(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE EXISTS (SELECT 1 FROM product_zones pz WHERE pz.product_id = p.id))::int AS zoned,
            (SELECT count(*)::int FROM stock_history sh JOIN products q ON q.id = sh.product_id WHERE q.sku LIKE $1) AS history
       FROM products p WHERE p.sku LIKE $1`,
    [`${tag}-%`],
  )) as [{ n: number; zoned: number; history: number }];
  expect({ n, zoned, history }).toEqual({ n: 20_000, zoned: 20_000, history: 20_000 - 400 });
}, 240_000);

test('all-or-nothing: a row that fails when written, after earlier batches were written, leaves nothing behind', async () => {
  const tag = `C${randomUUID().slice(0, 6)}`;
  // An update of an existing product in the first batch must be undone too.
  const [existing] = await h.q<{ sku: string; name_en: string; stock: number; price_minor: number }>(
    `SELECT sku, name_en, stock, price_minor FROM products WHERE vendor_id = (SELECT vendor_id FROM users WHERE email = 'vendor1@demo.lilium') AND deleted_at IS NULL ORDER BY sku LIMIT 1`,
  );
  await h.q(`ALTER TABLE products ADD CONSTRAINT test_refuse_boom CHECK (sku <> '${tag}-BOOM') NOT VALID`);
  try {
    const lines = file(tag, 3_000, `${tag}-BOOM`).split('\n');
    lines.splice(1, 0, `${existing!.sku},سكر,Changed by the import,,,sugar,PACK,6,7,,1,${existing!.stock + 3},2,false,ACTIVE,`);
    const { done } = await importFile(lines.join('\n'));
    const report = await done;
    staff.socket.off('import:progress');
    expect(report).toMatchObject({ status: 'FAILED', created: 0, updated: 0 });
  } finally {
    await h.q('ALTER TABLE products DROP CONSTRAINT test_refuse_boom');
  }
  expect(await h.q(`SELECT 1 FROM products WHERE sku LIKE $1`, [`${tag}-%`])).toHaveLength(0);
  const [after] = await h.q<{ name_en: string; stock: number; price_minor: number }>(
    `SELECT name_en, stock, price_minor FROM products WHERE sku = $1 AND vendor_id = (SELECT vendor_id FROM users WHERE email = 'vendor1@demo.lilium')`,
    [existing!.sku],
  );
  expect(after).toEqual({ name_en: existing!.name_en, stock: existing!.stock, price_minor: existing!.price_minor });
}, 120_000);

test('search: a query that folds to nothing finds nothing on the embedded database too', async () => {
  expect(await call(admin.socket, 'products:list', { q: 'ـــ', limit: 50 })).toEqual({ items: [], nextCursor: null });
  expect(await call(admin.socket, 'products:list', { q: 'ًٌٍ', limit: 50 })).toEqual({ items: [], nextCursor: null });
});
