import { afterAll, beforeAll, describe, expect, test } from 'vitest';
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
});
