import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import type { CategoryNode, Product } from '../protocol/catalog.js';
import { LockHolder } from './support/lock-holder.js';
import { codeOf, fails } from './support/expect.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { upload } from './support/images.js';
import { until } from './support/until.js';

let h: Harness;
let admin: Session, staff1: Session, staff2: Session, shop1: Session;
let vendor1: string, vendor2: string;
let tree: CategoryNode[];
const slugId = (slug: string, nodes = tree): string | undefined => {
  for (const n of nodes) {
    if (n.slug === slug) return n.id;
    const found = slugId(slug, n.children);
    if (found) return found;
  }
  return undefined;
};

beforeAll(async () => {
  h = await startHarness();
  [admin, staff1, staff2, shop1] = (await Promise.all(
    ['admin@demo.lilium', 'vendor1@demo.lilium', 'vendor2@demo.lilium', 'shop1@demo.lilium'].map((e) => h.login(e)),
  )) as [Session, Session, Session, Session];
  vendor1 = (await call(staff1.socket, 'me:get', {})).vendorId!;
  vendor2 = (await call(staff2.socket, 'me:get', {})).vendorId!;
  tree = (await call(shop1.socket, 'categories:tree', {})).items;
});
afterAll(() => h.close());

const newProduct = (overrides: Record<string, unknown> = {}) => ({
  sku: `T-${randomUUID().slice(0, 8)}`,
  name: { ar: 'منتج تجريبي', en: 'Test product' },
  categoryId: slugId('sugar')!,
  price: 1500_000,
  unit: 'PIECE' as const,
  stock: 10,
  ...overrides,
});

describe('categories', () => {
  test('product counts include every descendant', () => {
    const beverages = tree.find((c) => c.slug === 'beverages')!;
    const sum = (n: CategoryNode): number => n.productCount;
    expect(beverages.productCount).toBe(beverages.children.reduce((s, c) => s + sum(c), 0));
    const water = beverages.children.find((c) => c.slug === 'water')!;
    expect(water.children.length).toBe(2);
    expect(water.productCount).toBeGreaterThan(0);
  });

  test('a move that would make a cycle is refused; a sound move works', async () => {
    const top = await call(admin.socket, 'categories:create', { name: { ar: 'أدوات', en: 'Tools' } });
    const mid = await call(admin.socket, 'categories:create', { parentId: top.id, name: { ar: 'يدوية', en: 'Hand tools' } });
    const leaf = await call(admin.socket, 'categories:create', { parentId: mid.id, name: { ar: 'مفكات', en: 'Screwdrivers' } });
    expect(top.slug).toBe('tools');
    await fails(call(admin.socket, 'categories:move', { id: top.id, parentId: leaf.id }), 'CONFLICT', { id: top.id, parentId: leaf.id });
    await fails(call(admin.socket, 'categories:move', { id: top.id, parentId: top.id }), 'CONFLICT', { id: top.id, parentId: top.id });
    const moved = await call(admin.socket, 'categories:move', { id: leaf.id, parentId: top.id });
    expect(moved.parentId).toBe(top.id);
    expect(await codeOf(call(admin.socket, 'categories:create', { name: { ar: 'x', en: 'x' }, slug: 'tools' }))).toBe('CONFLICT');
  });

  test('delete refuses while products or children remain, and with reassignTo moves them in one go', async () => {
    const home = await call(admin.socket, 'categories:create', { name: { ar: 'منزل', en: 'Home goods' } });
    const child = await call(admin.socket, 'categories:create', { parentId: home.id, name: { ar: 'مطبخ', en: 'Kitchen' } });
    const product = await call(staff1.socket, 'products:create', newProduct({ categoryId: home.id }));
    await fails(call(admin.socket, 'categories:delete', { id: home.id }), 'CONFLICT', { products: 1, children: 1 });
    expect(await codeOf(call(admin.socket, 'categories:delete', { id: home.id, reassignTo: child.id }))).toBe('CONFLICT');
    const target = slugId('snacks')!;
    expect(await call(admin.socket, 'categories:delete', { id: home.id, reassignTo: target })).toEqual({ id: home.id, movedProducts: 1, movedChildren: 1 });
    expect((await call(staff1.socket, 'products:get', { id: product.id })).categoryId).toBe(target);
    const empty = await call(admin.socket, 'categories:create', { name: { ar: 'فارغ', en: 'Empty' } });
    expect((await call(admin.socket, 'categories:delete', { id: empty.id })).movedProducts).toBe(0);
  });

  test('delete with reassignTo takes the products in the order a checkout does: the two never deadlock', async () => {
    const interim = await call(admin.socket, 'categories:create', { name: { ar: 'مؤقت', en: 'Interim' } });
    // Products until the one of lowest id (a checkout's first lock) lies on disk behind another, which an UPDATE
    // visiting rows as stored would lock first.
    let pair: { first: string; behind: string } | undefined;
    while (!pair) {
      await call(staff1.socket, 'products:create', newProduct({ categoryId: interim.id }));
      [pair] = await h.q<{ first: string; behind: string }>(
        `WITH first AS (SELECT id, ctid FROM products WHERE category_id = $1 ORDER BY id LIMIT 1)
         SELECT first.id AS first, p.id AS behind FROM first JOIN products p ON p.category_id = $1 AND p.ctid < first.ctid LIMIT 1`,
        [interim.id],
      );
    }
    const checkout = await LockHolder.open(h);
    await checkout.query('BEGIN');
    await checkout.query('SELECT 1 FROM products WHERE id = $1 FOR NO KEY UPDATE', [pair.first]);
    const deleted = call(admin.socket, 'categories:delete', { id: interim.id, reassignTo: slugId('snacks')! });
    await until(async () => (await checkout.waiters()) === 1);
    // Had the delete locked the product stored first, this would wait for it while it waits here: a deadlock.
    await checkout.query('SELECT 1 FROM products WHERE id = $1 FOR NO KEY UPDATE', [pair.behind]);
    await checkout.query('COMMIT');
    expect((await deleted).id).toBe(interim.id);
  });

  test('a product moving into a category as it is deleted goes with its products, or is told the category is gone', async () => {
    const target = slugId('snacks')!;
    // Moved in by a transaction still open as the delete starts: the delete waits for it, then moves the product too.
    const leaving = await call(admin.socket, 'categories:create', { name: { ar: 'مغادر', en: 'Leaving' } });
    const product = await call(staff1.socket, 'products:create', newProduct());
    const mover = await LockHolder.open(h);
    await mover.query('BEGIN');
    await mover.query('UPDATE products SET category_id = $1 WHERE id = $2', [leaving.id, product.id]);
    const deleted = call(admin.socket, 'categories:delete', { id: leaving.id, reassignTo: target });
    await until(async () => (await mover.waiters()) === 1);
    await mover.query('COMMIT');
    expect(await deleted).toEqual({ id: leaving.id, movedProducts: 1, movedChildren: 0 });
    expect((await call(staff1.socket, 'products:get', { id: product.id })).categoryId).toBe(target);

    // Moved in while a delete holds the category: the move waits, then answers NOT_FOUND.
    const gone = await call(admin.socket, 'categories:create', { name: { ar: 'زائل', en: 'Gone' } });
    const remover = await LockHolder.open(h);
    await remover.query('BEGIN');
    await remover.query('SELECT 1 FROM categories WHERE id = $1 FOR UPDATE', [gone.id]);
    const moved = call(staff1.socket, 'products:update', { id: product.id, categoryId: gone.id });
    await until(async () => (await remover.waiters()) === 1);
    await remover.query('DELETE FROM categories WHERE id = $1', [gone.id]);
    await remover.query('COMMIT');
    expect((await fails(moved, 'NOT_FOUND')).message).toBe('category not found');
    expect((await call(staff1.socket, 'products:get', { id: product.id })).categoryId).toBe(target);
  });
  test('a category made under one being deleted waits for the delete, then answers NOT_FOUND', async () => {
    const parent = await call(admin.socket, 'categories:create', { name: { ar: 'أصل', en: 'Parent' } });
    const remover = await LockHolder.open(h);
    await remover.query('BEGIN');
    await remover.query('SELECT 1 FROM categories WHERE id = $1 FOR UPDATE', [parent.id]);
    const made = call(admin.socket, 'categories:create', { parentId: parent.id, name: { ar: 'فرع', en: 'Child' } });
    await until(async () => (await remover.waiters()) === 1);
    await remover.query('DELETE FROM categories WHERE id = $1', [parent.id]);
    await remover.query('COMMIT');
    expect((await fails(made, 'NOT_FOUND')).message).toBe('category not found');
  });

  test('a product moved out as its category is deleted is not counted as moved', async () => {
    const leaving = await call(admin.socket, 'categories:create', { name: { ar: 'مغادر', en: 'Emptied' } });
    const [stays, goes] = [
      await call(staff1.socket, 'products:create', newProduct({ categoryId: leaving.id })),
      await call(staff1.socket, 'products:create', newProduct({ categoryId: leaving.id })),
    ];
    const mover = await LockHolder.open(h);
    await mover.query('BEGIN');
    await mover.query('UPDATE products SET category_id = $1 WHERE id = $2', [slugId('sugar')!, goes.id]);
    const deleted = call(admin.socket, 'categories:delete', { id: leaving.id, reassignTo: slugId('snacks')! });
    await until(async () => (await mover.waiters()) === 1);
    await mover.query('COMMIT');
    expect(await deleted).toEqual({ id: leaving.id, movedProducts: 1, movedChildren: 0 });
    expect((await call(staff1.socket, 'products:get', { id: stays.id })).categoryId).toBe(slugId('snacks'));
  });
});

describe('products and their owners', () => {
  test("vendor A's staff cannot touch vendor B's products or stock", async () => {
    const theirs = await call(staff2.socket, 'products:create', newProduct());
    expect(await codeOf(call(staff1.socket, 'products:update', { id: theirs.id, price: 1 }))).toBe('FORBIDDEN');
    expect(await codeOf(call(staff1.socket, 'products:delete', { id: theirs.id }))).toBe('FORBIDDEN');
    expect(await codeOf(call(staff1.socket, 'stock:adjust', { productId: theirs.id, delta: 5, reason: 'x', idempotencyKey: randomUUID() }))).toBe('FORBIDDEN');
    expect(await codeOf(call(staff1.socket, 'stock:history', { productId: theirs.id }))).toBe('FORBIDDEN');
    expect(await codeOf(call(staff1.socket, 'products:create', newProduct({ vendorId: vendor2 })))).toBe('FORBIDDEN');
  });

  test('SKUs are unique per vendor; zones must be served by the vendor', async () => {
    const p = await call(staff1.socket, 'products:create', newProduct({ sku: 'DUP-1' }));
    expect(p.zoneIds.length).toBeGreaterThan(0);
    expect(await codeOf(call(staff1.socket, 'products:create', newProduct({ sku: 'DUP-1' })))).toBe('CONFLICT');
    expect(await call(staff2.socket, 'products:create', newProduct({ sku: 'DUP-1' }))).toMatchObject({ sku: 'DUP-1', vendorId: vendor2 });
    const v2 = await call(admin.socket, 'vendors:get', { id: vendor2 });
    // A zone made here, so there is always one that vendor 2 does not serve.
    const unserved = (await call(admin.socket, 'zones:create', { code: 'UNSERVED', name: { ar: 'غير مخدومة', en: 'Unserved' } })).id;
    expect(v2.zones.map((z) => z.zoneId)).not.toContain(unserved);
    await fails(call(staff2.socket, 'products:create', newProduct({ zoneIds: [unserved] })), 'OUT_OF_ZONE', { zoneIds: [unserved] });
    expect(await codeOf(call(admin.socket, 'products:create', newProduct()))).toBe('BAD_REQUEST');
  });

  test('a shop owner sees only what is sold in its zone; drafts stay with their vendor', async () => {
    const zone = (await call(shop1.socket, 'me:get', {})).zoneIds[0]!;
    const seen: Product[] = [];
    let cursor: string | undefined;
    do {
      const page = await call(shop1.socket, 'products:list', { limit: 100, cursor });
      seen.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.every((p) => p.zoneIds.includes(zone) && p.status === 'ACTIVE')).toBe(true);
    const draft = await call(staff1.socket, 'products:create', newProduct({ status: 'DRAFT' }));
    expect(await codeOf(call(shop1.socket, 'products:get', { id: draft.id }))).toBe('NOT_FOUND');
    expect(await codeOf(call(staff2.socket, 'products:get', { id: draft.id }))).toBe('NOT_FOUND');
    expect((await call(staff1.socket, 'products:get', { id: draft.id })).status).toBe('DRAFT');
  });
});

describe('search', () => {
  const names = async (q: string, who = admin) => (await call(who.socket, 'products:list', { q, limit: 50 })).items.map((p) => `${p.name.ar} | ${p.name.en}`);

  test('Arabic spelling variants find the same products', async () => {
    expect((await names('مياة')).some((n) => n.includes('مياه'))).toBe(true);
    expect((await names('ارز')).some((n) => n.includes('أرز'))).toBe(true);
    expect((await names('اَرُزّ')).some((n) => n.includes('أرز'))).toBe(true);
    expect((await names('مـيـاه')).some((n) => n.includes('مياه'))).toBe(true);
    expect((await names('معدنيه')).some((n) => n.includes('معدنية'))).toBe(true);
    await call(staff1.socket, 'products:create', newProduct({ name: { ar: 'حلوى مصطفى', en: 'Mustafa sweets' } }));
    expect((await names('مصطفي')).some((n) => n.includes('مصطفى'))).toBe(true);
  });

  test('English typos and partial words still find the product', async () => {
    expect((await names('shampo')).some((n) => /shampoo/i.test(n))).toBe(true);
    expect((await names('sham')).some((n) => /shampoo/i.test(n))).toBe(true);
    expect((await names('biscuts')).some((n) => /biscuits/i.test(n))).toBe(true);
    expect((await names('SPAGHETTI')).some((n) => /spaghetti/i.test(n))).toBe(true);
  });

  test('the best match comes first, and unrelated words find nothing', async () => {
    const [first] = await names('basmati rice');
    expect(first).toMatch(/basmati/i);
    expect(await names('xylophone')).toEqual([]);
  });

  test('a query that folds to nothing (only tatweel or diacritics) finds nothing', async () => {
    for (const q of ['ـــ', 'ًٌٍَُِّْ', 'ـ ً ـ']) expect(await call(admin.socket, 'products:list', { q, limit: 50 })).toEqual({ items: [], nextCursor: null });
  });
});

describe('filters, sorts and pages', () => {
  test('a category filter includes its descendants', async () => {
    const water = await call(admin.socket, 'products:list', { categoryId: slugId('water')!, limit: 100 });
    const leaves = [slugId('mineral-water'), slugId('sparkling-water')];
    expect(water.items.length).toBeGreaterThan(0);
    expect(water.items.every((p) => leaves.includes(p.categoryId))).toBe(true);
  });

  test('price range, stock, featured, and sorted cursor pages that cover everything once', async () => {
    const ranged = await call(admin.socket, 'products:list', { minPrice: 10_000_000, maxPrice: 20_000_000, inStock: true, limit: 100 });
    expect(ranged.items.every((p) => p.price >= 10_000_000 && p.price <= 20_000_000 && p.stock > 0)).toBe(true);
    expect((await call(admin.socket, 'products:list', { featured: true, limit: 100 })).items.every((p) => p.featured)).toBe(true);
    for (const sort of ['price_asc', 'price_desc', 'name', 'newest', 'popular'] as const) {
      const all = (await call(admin.socket, 'products:list', { sort, vendorId: vendor1, limit: 100 })).items.map((p) => p.id);
      const paged: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await call(admin.socket, 'products:list', { sort, vendorId: vendor1, limit: 13, cursor });
        paged.push(...page.items.map((p) => p.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(paged, sort).toEqual(all);
    }
    const prices = (await call(admin.socket, 'products:list', { sort: 'price_asc', limit: 50 })).items.map((p) => p.price);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
  });
});

describe('stock', () => {
  test('stock:adjust is idempotent, never goes below zero, and writes history', async () => {
    const p = await call(staff1.socket, 'products:create', newProduct({ stock: 5 }));
    const key = randomUUID();
    const first = await call(staff1.socket, 'stock:adjust', { productId: p.id, delta: 7, reason: 'delivery from factory', idempotencyKey: key });
    const again = await call(staff1.socket, 'stock:adjust', { productId: p.id, delta: 7, reason: 'delivery from factory', idempotencyKey: key });
    expect(first).toEqual({ productId: p.id, stock: 12 });
    expect(again).toEqual(first);
    await fails(call(staff1.socket, 'stock:adjust', { productId: p.id, delta: -13, reason: 'breakage', idempotencyKey: randomUUID() }), 'INSUFFICIENT_STOCK', {
      products: [{ productId: p.id, requested: 13, available: 12 }],
    });
    const history = await call(staff1.socket, 'stock:history', { productId: p.id });
    expect(history.items.map((e) => [e.delta, e.stockAfter, e.reason])).toEqual([
      [7, 12, 'delivery from factory'],
      [5, 5, 'initial stock'],
    ]);
    await fails(call(staff1.socket, 'products:update', { id: p.id, stock: 99 } as never), 'BAD_REQUEST', [
      { path: '', code: 'unrecognized_keys', message: 'Unrecognized key: "stock"' },
      { path: '', code: 'custom', message: 'nothing to change' },
    ]);
  });

  test('a burst of stock changes reaches the zone as a few coalesced pushes ending at the final level', async () => {
    const zone = (await call(shop1.socket, 'me:get', {})).zoneIds[0]!;
    const p = await call(staff1.socket, 'products:create', newProduct({ stock: 100, zoneIds: [zone] }));
    const pushes: number[] = [];
    shop1.socket.on('stock:changed', (e) => e.data.productId === p.id && pushes.push(e.data.stock));
    const started = Date.now();
    for (let i = 0; i < 20; i++) await call(staff1.socket, 'stock:adjust', { productId: p.id, delta: -1, reason: 'sale', idempotencyKey: randomUUID() });
    const elapsed = Date.now() - started;
    while (pushes.at(-1) !== 80) await new Promise((r) => setTimeout(r, 10));
    expect(pushes.length).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 2);
    expect(pushes.length).toBeLessThan(20);
  });
});

describe('CSV import and export', () => {
  const header =
    'sku,name_ar,name_en,description_ar,description_en,category,unit,units_per_pack,price,compare_at_price,min_order_qty,stock,low_stock_threshold,featured,status,zones';
  const csv = (...rows: string[]) => Buffer.from([header, ...rows].join('\n'));
  const good = (sku: string, stock = 10) => `${sku},"سكر, ناعم","Sugar, fine",,,sugar,PACK,6,2500000,,1,${stock},2,true,ACTIVE,`;

  async function runImport(body: Buffer, mode: 'all-or-nothing' | 'partial') {
    const up = await upload(h.url, staff1.accessToken, body, { kind: 'csv', filename: 'p.csv', type: 'text/csv' });
    expect(up.status).toBe(201);
    const done = new Promise<{ status: string; created: number; updated: number; errors: Array<{ row: number; field: string | null }> }>((resolve) =>
      staff1.socket.on('import:progress', (r) => r.status !== 'RUNNING' && resolve(r)),
    );
    const started = await call(staff1.socket, 'products:import', { uploadId: up.body.id, mode });
    expect(started.status).toBe('RUNNING');
    const result = await done;
    staff1.socket.off('import:progress');
    return result;
  }

  test('a file with bad rows imports nothing and reports each bad row', async () => {
    const result = await runImport(
      csv(good('BAD-1'), 'BAD-2,x,y,,,no-such-category,PIECE,1,100,,1,1,0,false,ACTIVE,', 'BAD-3,x,y,,,sugar,BOX,1,-5,,1,1,0,false,ACTIVE,', good('BAD-1')),
      'all-or-nothing',
    );
    expect(result.status).toBe('FAILED');
    expect(result.errors.map((e) => [e.row, e.field])).toEqual([
      [3, 'category'],
      [4, 'unit'],
      [4, 'price'],
      [5, 'sku'],
    ]);
    expect(await h.q(`SELECT 1 FROM products WHERE sku LIKE 'BAD-%'`)).toHaveLength(0);
  });

  test('partial mode imports the good rows; a second import updates by SKU and records the stock change', async () => {
    const first = await runImport(csv(good('CSV-10'), good('CSV-11'), 'CSV-12,x,y,,,sugar,BOX,1,1,,1,1,0,false,ACTIVE,'), 'partial');
    expect(first).toMatchObject({ status: 'DONE', created: 2, updated: 0 });
    expect(first.errors).toHaveLength(1);
    const second = await runImport(csv(good('CSV-10', 25)), 'all-or-nothing');
    expect(second).toMatchObject({ status: 'DONE', created: 0, updated: 1 });
    const [row] = await h.q<{ id: string; stock: number; name_ar: string }>(`SELECT id, stock, name_ar FROM products WHERE sku = 'CSV-10' AND vendor_id = $1`, [
      vendor1,
    ]);
    expect(row).toMatchObject({ stock: 25, name_ar: 'سكر, ناعم' });
    expect((await call(staff1.socket, 'stock:history', { productId: row!.id })).items.map((e) => [e.delta, e.reason])).toEqual([
      [15, 'import'],
      [10, 'import'],
    ]);
  });

  test('an import updating a product does not wait for a checkout still writing an order of it', async () => {
    const sku = `KS-${randomUUID().slice(0, 8)}`;
    expect((await runImport(csv(good(sku, 5)), 'all-or-nothing')).created).toBe(1);
    const [product] = await h.q<{ id: string }>('SELECT id FROM products WHERE sku = $1', [sku]);
    // A checkout's order items hold a key-share lock on their products from their insert to its COMMIT, and a
    // checkout locks its products in its own order meanwhile: an import waiting for that lock could deadlock with it.
    const checkout = await LockHolder.open(h);
    await checkout.query('BEGIN');
    await checkout.query('SELECT 1 FROM products WHERE id = $1 FOR KEY SHARE', [product!.id]);
    let finished = false;
    const imported = runImport(csv(good(sku, 7)), 'all-or-nothing').finally(() => (finished = true));
    imported.catch(() => undefined); // awaited below, after the wait
    // An import that waits fails the test at once, and goes on once the checkout commits, so it ends within this test.
    await until(async () => finished || (await checkout.waiters()) > 0);
    const waited = !finished;
    await checkout.query('COMMIT');
    expect((await imported).updated).toBe(1);
    expect(waited).toBe(false);
    expect((await call(staff1.socket, 'products:get', { id: product!.id })).stock).toBe(7);
  });

  test('an import takes its categories before its products, as a category delete does: the two never deadlock', async () => {
    const [kept, added] = [`KC-${randomUUID().slice(0, 8)}`, `KC-${randomUUID().slice(0, 8)}`];
    expect((await runImport(csv(good(kept)), 'all-or-nothing')).created).toBe(1);
    const [product] = await h.q<{ id: string; category_id: string }>('SELECT id, category_id FROM products WHERE sku = $1', [kept]);
    // A delete of the category, holding it: its next lock is the category's products.
    const remover = await LockHolder.open(h);
    await remover.query('BEGIN');
    await remover.query('SELECT 1 FROM categories WHERE id = $1 FOR UPDATE', [product!.category_id]);
    // The file updates a product of the category and adds one to it, whose key reaches the category.
    const imported = runImport(csv(good(kept, 3), good(added)), 'all-or-nothing');
    imported.catch(() => undefined); // awaited below
    await until(async () => (await remover.waiters()) === 1);
    // Had the import locked its products first, this would wait for it while it waits here: a deadlock.
    await remover.query('SELECT 1 FROM products WHERE id = $1 FOR NO KEY UPDATE', [product!.id]);
    await remover.query('ROLLBACK');
    expect(await imported).toMatchObject({ status: 'DONE', created: 1, updated: 1 });
  });

  test('export writes the catalogue in the import format', async () => {
    expect(await runImport(csv(good('CSV-20')), 'all-or-nothing')).toMatchObject({ status: 'DONE', created: 1 });
    const { url, rows } = await call(staff1.socket, 'products:export', {});
    const text = await (await fetch(`${h.url}${url}`)).text();
    const lines = text.trim().split('\r\n');
    expect(lines[0]).toBe(header);
    expect(lines.length - 1).toBe(rows);
    expect(text).toContain('CSV-20,"سكر, ناعم","Sugar, fine"');
    expect(await codeOf(call(staff1.socket, 'products:export', { vendorId: vendor2 }))).toBe('FORBIDDEN');
  });
});
