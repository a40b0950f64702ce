import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call, type LiliumSocket } from '../protocol/client.js';
import type { InputOf } from '../protocol/index.js';
import { startHarness, type Harness } from './support/harness.js';
import { SEARCH_TERMS, searchAnswers } from './support/search-cases.js';
import pinned from './search.answers.json' with { type: 'json' };

/**
 * products:list with `q` gives the answers pinned before its query was made fast (test/search.answers.json): the
 * benchmark's terms, Arabic folding, typos through the trigram fallback, zones, filters, pages and a suspended
 * vendor, on the deterministic demo catalogue; the same on PostgreSQL and on PGlite.
 */
describe.each(['postgres', 'pglite'] as const)('search answers on %s', (database) => {
  let h: Harness;
  let answers: Record<string, string[]>;
  beforeAll(async () => {
    h = await startHarness({ database });
    answers = await searchAnswers(h);
  }, 120_000);
  afterAll(() => h?.close());

  test('every case answers as pinned', () => {
    expect(Object.keys(answers)).toEqual(Object.keys(pinned));
    for (const [name, skus] of Object.entries(pinned)) expect(answers[name], name).toEqual(skus);
  });

  test('pages by relevance join up to the single page, and reinstating the vendor brings its products back', () => {
    for (const q of ['مياة', 'زيت', 'biscuts', 'sham']) expect(answers[`karkh pages ${q}`], q).toEqual(answers[`karkh one page ${q}`]);
    for (const q of SEARCH_TERMS.slice(0, 14)) expect(answers[`reinstated karkh ${q}`], q).toEqual(answers[`karkh ${q}`]);
  });

  const skus = async (socket: LiliumSocket, input: InputOf<'products:list'>) => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call(socket, 'products:list', { ...input, cursor });
      seen.push(...page.items.map((p) => p.sku));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return seen;
  };
  // Every product's copy of its zones equals product_zones, sorted.
  const copiesAgree = async () =>
    (
      await h.q<{ n: number }>(
        `SELECT count(*)::int AS n FROM products p
          WHERE p.zone_ids <> coalesce((SELECT array_agg(pz.zone_id ORDER BY pz.zone_id) FROM product_zones pz WHERE pz.product_id = p.id), '{}')`,
      )
    )[0]!.n === 0;

  test('by relevance a search ranks at most 500 matches; sorted by price it pages through all of them', async () => {
    const karkh = await h.login('shop1@demo.lilium');
    await h.q(
      `WITH made AS (
         INSERT INTO products (vendor_id, category_id, sku, name_ar, name_en, unit, price_minor, stock)
         SELECT v.id, (SELECT id FROM categories WHERE slug = 'sugar'), 'QK-' || g, 'كوكا ' || g, 'Quokka biscuit ' || g, 'PIECE', 1000 + g, 5
           FROM vendors v CROSS JOIN generate_series(1, 600) g WHERE v.name = 'Rafidain Wholesale'
         RETURNING id)
       INSERT INTO product_zones (product_id, zone_id) SELECT made.id, z.id FROM made, zones z WHERE z.code = 'KARKH'`,
    );
    expect(await copiesAgree()).toBe(true);
    const ranked = await skus(karkh.socket, { q: 'quokka', limit: 100 });
    expect([ranked.length, new Set(ranked).size]).toEqual([500, 500]);
    const byPrice = await skus(karkh.socket, { q: 'quokka', sort: 'price_asc', limit: 100 });
    expect(byPrice).toEqual(Array.from({ length: 600 }, (_, i) => `QK-${i + 1}`));
  });

  test("a product's zones follow product_zones however they change, and so does who finds it", async () => {
    const [admin, staff, karkh, rusafa] = await Promise.all(
      ['admin@demo.lilium', 'vendor1@demo.lilium', 'shop1@demo.lilium', 'shop2@demo.lilium'].map((e) => h.login(e)),
    );
    const zones = Object.fromEntries((await h.q<{ code: string; id: string }>('SELECT code, id FROM zones')).map((z) => [z.code, z.id]));
    const vendorId = (await call(staff!.socket, 'me:get', {})).vendorId!;
    const serve = (codes: string[]) =>
      call(admin!.socket, 'vendors:update', { id: vendorId, zones: codes.map((c) => ({ zoneId: zones[c]!, deliveryFee: 500, minOrderValue: 0 })) });
    await serve(['ADHAMIYA', 'KARKH', 'MANSOUR', 'RUSAFA']);
    const [category] = await h.q<{ id: string }>(`SELECT id FROM categories WHERE slug = 'sugar'`);
    const made = await call(staff!.socket, 'products:create', {
      sku: 'ZANZIBAR-1',
      name: { ar: 'قرنفل زنجبار', en: 'Zanzibar cloves' },
      categoryId: category!.id,
      price: 1000,
      unit: 'PIECE',
    });
    const all = [zones.ADHAMIYA!, zones.KARKH!, zones.MANSOUR!, zones.RUSAFA!].sort();
    expect(made.zoneIds).toEqual(all);
    const found = async () => [
      (await skus(karkh!.socket, { q: 'zanzibar', limit: 20 })).length,
      (await skus(rusafa!.socket, { q: 'زنجبار', limit: 20 })).length,
    ];
    expect(await found()).toEqual([1, 1]);
    expect((await call(staff!.socket, 'products:update', { id: made.id, zoneIds: [zones.KARKH!] })).zoneIds).toEqual([zones.KARKH]);
    expect(await found()).toEqual([1, 0]);
    await serve(['ADHAMIYA', 'MANSOUR', 'RUSAFA']);
    expect((await call(staff!.socket, 'products:get', { id: made.id })).zoneIds).toEqual([]);
    expect(await found()).toEqual([0, 0]);
    expect(await copiesAgree()).toBe(true);
  });
});
