import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import type { InputOf } from '../protocol/index.js';
import { statementsOf } from './support/statements.js';
import { startHarness, type Harness, type Session } from './support/harness.js';

let h: Harness;
let shop: Session;
beforeAll(async () => {
  h = await startHarness();
  shop = await h.login('shop1@demo.lilium');
});
afterAll(() => h.close());

/** The statements of one products:list that read products: whether each went prepared, and its text. */
async function searchStatements(input: InputOf<'products:list'>) {
  const statements = await statementsOf(() => call(shop.socket, 'products:list', input));
  return statements.filter((s) => s.sql.includes('FROM products p')).map((s) => ({ prepared: s.name !== undefined, sql: s.sql }));
}

test('a search is prepared unless a filter an index serves makes its plan turn on the values', async () => {
  const plain = await searchStatements({ q: 'زيت', limit: 5 });
  expect(plain.map((s) => s.prepared)).toEqual([true]);
  // A typo: the full-text statement finds nothing, then the trigram one; both prepared.
  const typo = await searchStatements({ q: 'biscuts', limit: 5 });
  expect(typo.map((s) => [s.prepared, s.sql.includes('word_similarity')])).toEqual([
    [true, false],
    [true, true],
  ]);
  // A later page asks whether the full-text match finds anything first: prepared too.
  const first = await call(shop.socket, 'products:list', { q: 'زيت', limit: 1 });
  expect((await searchStatements({ q: 'زيت', limit: 1, cursor: first.nextCursor! })).map((s) => s.prepared)).toEqual([true, true]);
  for (const filter of [{ minPrice: 100 }, { maxPrice: 10_000_000 }, { categoryId: first.items[0]!.categoryId }, { vendorId: first.items[0]!.vendorId }]) {
    expect(
      (await searchStatements({ q: 'زيت', limit: 5, ...filter })).map((s) => s.prepared),
      JSON.stringify(filter),
    ).toEqual([false]);
  }
  // Browsing and sorting by price stay planned for their values.
  expect((await searchStatements({ limit: 5 })).map((s) => s.prepared)).toEqual([false]);
  expect((await searchStatements({ q: 'زيت', sort: 'price_asc', limit: 5 })).map((s) => s.prepared)).toEqual([false]);
});

test('a prepared search answers the same once PostgreSQL plans it once for all values', async () => {
  const terms = ['زيت', 'ارز بسمتي', 'shampo', 'biscuts'];
  const skus = async (q: string) => (await call(shop.socket, 'products:list', { q, limit: 20 })).items.map((p) => p.sku);
  // One call at a time reuses the pool's last connection, so each term runs past the five custom plans after which
  // PostgreSQL may keep one generic plan for the statement.
  for (const q of terms) {
    const first = await skus(q);
    expect(first.length, q).toBeGreaterThan(0);
    for (let i = 0; i < 7; i++) expect(await skus(q), q).toEqual(first);
  }
});
