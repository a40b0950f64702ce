import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { startHarness, type Harness } from './support/harness.js';

/**
 * A search spells each word's prefix as the lexemes in search_lexemes (lilium_prefix_query), so that table must hold
 * every lexeme of every product, whichever way a product is written; a product created, renamed or bulk-inserted is
 * found by the leading part of its new words. On PostgreSQL and on PGlite.
 */
describe.each(['postgres', 'pglite'] as const)('search lexemes on %s', (database) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ database });
  }, 120_000);
  afterAll(() => h?.close());

  // Lexemes of products that the dictionary lacks: none, or a prefix would miss them.
  const missing = async () =>
    (
      await h.q<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT DISTINCT unnest(tsvector_to_array(search_tsv)) AS l FROM products) p
          WHERE NOT EXISTS (SELECT 1 FROM search_lexemes s WHERE s.lexeme = p.l)`,
      )
    )[0]!.n;

  test('created, renamed and bulk-inserted products are found by the leading part of their words', async () => {
    const [staff, karkh] = await Promise.all(['vendor1@demo.lilium', 'shop1@demo.lilium'].map((e) => h.login(e)));
    expect(await missing()).toBe(0);
    const [category] = await h.q<{ id: string }>(`SELECT id FROM categories WHERE slug = 'sugar'`);
    const made = await call(staff!.socket, 'products:create', {
      sku: 'LEX-1',
      name: { ar: 'قهوة بنفسجية', en: 'Periwinkle coffee' },
      categoryId: category!.id,
      price: 1000,
      unit: 'PIECE',
      stock: 3,
    });
    const found = async (q: string) => (await call(karkh!.socket, 'products:list', { q, limit: 20 })).items.map((p) => p.sku);
    expect(await found('periwink')).toEqual(['LEX-1']);
    expect(await found('بنفسج')).toEqual(['LEX-1']);
    await call(staff!.socket, 'products:update', {
      id: made.id,
      name: { ar: 'قهوة بنفسجية', en: 'Quetzal coffee' },
      description: { ar: '', en: 'xerophile beans' },
    });
    expect(await found('quetz')).toEqual(['LEX-1']);
    expect(await found('xeroph')).toEqual(['LEX-1']);
    // A bulk statement, as an import or the benchmark writes them.
    await h.q(
      `INSERT INTO products (vendor_id, category_id, sku, name_ar, name_en, unit, price_minor, stock)
       SELECT vendor_id, category_id, 'LEX-' || g, name_ar, 'Wombatish tea ' || g, unit, price_minor, 1 FROM products, generate_series(2, 3) g WHERE sku = 'LEX-1'`,
    );
    await h.q(`INSERT INTO product_zones (product_id, zone_id) SELECT p.id, pz.zone_id FROM products p, product_zones pz, products o
                WHERE p.sku IN ('LEX-2', 'LEX-3') AND o.sku = 'LEX-1' AND pz.product_id = o.id`);
    expect((await found('wombat')).sort()).toEqual(['LEX-2', 'LEX-3']);
    expect(await missing()).toBe(0);
  });
});
