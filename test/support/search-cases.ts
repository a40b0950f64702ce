import { call, type LiliumSocket } from '../../protocol/client.js';
import type { InputOf } from '../../protocol/index.js';
import { BENCH_SEARCH_TERMS } from '../../load/fixtures.js';
import type { Harness } from './harness.js';

/** The search benchmark's 14 terms (load/catalog-search.bench.ts), then spelling variants and terms that must find nothing. */
export const SEARCH_TERMS = [...BENCH_SEARCH_TERMS, 'اَرُزّ', 'مـيـاه', 'معدنيه', 'SPAGHETTI', 'xylophone', 'ـ ً ـ'];

/** Every page of a listing, in order, as SKUs. */
async function allPages(socket: LiliumSocket, input: InputOf<'products:list'>): Promise<string[]> {
  const skus: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await call(socket, 'products:list', { ...input, cursor });
    skus.push(...page.items.map((p) => p.sku));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return skus;
}

const skus = async (socket: LiliumSocket, input: InputOf<'products:list'>) => (await call(socket, 'products:list', input)).items.map((p) => p.sku);

/**
 * What products:list answers, as SKUs in order, on the demo catalogue (seeded with the same ids every run, so equal ranks
 * break the same way): per term for a shop in KARKH, the same shop with the benchmark's filters, a shop in RUSAFA, an
 * admin of all zones and one limited to MANSOUR; every page of a few terms by relevance and by price; and, with
 * Babylon Foods suspended, the KARKH shop again. The vendor is reinstated at the end.
 */
export async function searchAnswers(h: Harness): Promise<Record<string, string[]>> {
  const [superAdmin, admin, karkh, rusafa] = await Promise.all(
    ['superadmin@demo.lilium', 'admin@demo.lilium', 'shop1@demo.lilium', 'shop2@demo.lilium'].map((e) => h.login(e)),
  );
  const [mansour] = await h.q<{ id: string }>(`SELECT id FROM zones WHERE code = 'MANSOUR'`);
  const password = 'zone-admin-pass-1';
  await call(superAdmin!.socket, 'users:create', {
    role: 'ADMIN',
    name: 'Mansour admin',
    email: 'search-mansour@test.lilium',
    password,
    zoneIds: [mansour!.id],
  });
  const zoneAdmin = await h.login('search-mansour@test.lilium', { password });
  const out: Record<string, string[]> = {};
  for (const q of SEARCH_TERMS) {
    out[`karkh ${q}`] = await skus(karkh!.socket, { q, limit: 20 });
    out[`karkh filtered ${q}`] = await skus(karkh!.socket, { q, inStock: true, minPrice: 1_000_000, maxPrice: 40_000_000, limit: 20 });
    out[`rusafa ${q}`] = await skus(rusafa!.socket, { q, limit: 20 });
    out[`admin ${q}`] = await skus(admin!.socket, { q, limit: 20 });
    out[`mansour admin ${q}`] = await skus(zoneAdmin.socket, { q, limit: 20 });
  }
  for (const q of ['مياة', 'زيت', 'biscuts', 'sham']) {
    out[`karkh pages ${q}`] = await allPages(karkh!.socket, { q, limit: 7 });
    out[`karkh one page ${q}`] = await skus(karkh!.socket, { q, limit: 100 });
    out[`karkh pages by price ${q}`] = await allPages(karkh!.socket, { q, sort: 'price_asc', limit: 5 });
  }
  const [babylon] = await h.q<{ id: string }>(`SELECT id FROM vendors WHERE name = 'Babylon Foods'`);
  await call(admin!.socket, 'vendors:set-status', { id: babylon!.id, status: 'SUSPENDED', reason: 'search pin' });
  for (const q of SEARCH_TERMS.slice(0, 14)) out[`suspended karkh ${q}`] = await skus(karkh!.socket, { q, limit: 20 });
  await call(admin!.socket, 'vendors:set-status', { id: babylon!.id, status: 'APPROVED', reason: 'search pin' });
  for (const q of SEARCH_TERMS.slice(0, 14)) out[`reinstated karkh ${q}`] = await skus(karkh!.socket, { q, limit: 20 });
  return out;
}
