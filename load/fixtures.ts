/**
 * What the load tools and the tests both do as a client of the demo data. It depends on protocol/ only, so the
 * tests' support code (harness, ordering fixtures) can import it without the load tools depending on test code.
 */
import { call, type LiliumSocket } from '../protocol/client.js';
import type { Product } from '../protocol/catalog.js';
import type { App } from '../protocol/common.js';
import type { InputOf } from '../protocol/index.js';

/** The app a demo account signs in with, read from its email: shop owners use the mobile app, drivers theirs. */
export function appOf(email: string): App {
  if (email.startsWith('shop')) return 'mobile';
  if (email.startsWith('driver')) return 'driver';
  return 'dashboard';
}

type ProductInput = InputOf<'products:create'>;

/**
 * A new product of the staff member's vendor: a piece at 100.00 with 100 in stock, sold in every zone, unless
 * `fields` say otherwise.
 */
export async function createProduct(staff: LiliumSocket, fields: Pick<ProductInput, 'sku' | 'categoryId'> & Partial<ProductInput>): Promise<Product> {
  // `zoneIds: undefined` given on purpose leaves the choice to the server (the vendor's zones).
  const zoneIds = 'zoneIds' in fields ? fields.zoneIds : (await call(staff, 'zones:list', {})).items.map((z) => z.id);
  return call(staff, 'products:create', {
    name: { ar: 'منتج طلب', en: 'Order test product' },
    price: 10_000,
    unit: 'PIECE',
    stock: 100,
    ...fields,
    zoneIds,
  });
}

/** The search benchmark's terms: Arabic and English, spelling variants and misspellings (test/search.test.ts pins their answers). */
export const BENCH_SEARCH_TERMS = [
  'مياة',
  'ارز بسمتي',
  'أرز',
  'shampo',
  'sham',
  'basmati rice',
  'زيت',
  'sunflower oil 4L',
  'biscuts',
  'حليب كامل',
  'tomato',
  'معجون',
  'Almarai milk',
  'tea 100',
];
