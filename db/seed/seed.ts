import bcrypt from 'bcrypt';
// English only: the package's index would load all of its locales (see people.ts).
import { faker } from '@faker-js/faker/locale/en';
import type { Role } from '../../protocol/common.js';
import { sql } from '../sql.js';
import type { Db, Reader, Tx } from '../tx.js';
import { brands, categoryTree, zoneSeeds, type CategorySeed, type Tr } from './catalog-data.js';
import { vendorNames } from './people-data.js';
import { mobile, peopleFaker, personName, pickScript, shopAddress, shopName, unique, type Script } from './people.js';

export const SEED = 20251125;
export const PRODUCTS_PER_VENDOR = 60;

export interface DemoLogin {
  email: string;
  role: Role;
  note: string;
}

/** Logins the contract promises; all share the demo password. */
export const demoLogins: DemoLogin[] = [
  { email: 'superadmin@demo.lilium', role: 'SUPER_ADMIN', note: 'dashboard' },
  { email: 'admin@demo.lilium', role: 'ADMIN', note: 'dashboard, all zones' },
  { email: 'manager1@demo.lilium', role: 'COMPANY_MANAGER', note: 'dashboard, first vendor' },
  { email: 'vendor1@demo.lilium', role: 'VENDOR', note: 'dashboard, staff of the first vendor' },
  ...[1, 2, 3, 4, 5].map((i) => ({ email: `shop${i}@demo.lilium`, role: 'SHOP_OWNER' as const, note: 'mobile' })),
  { email: 'driver1@demo.lilium', role: 'DRIVER', note: 'driver, first vendor fleet' },
  { email: 'driver2@demo.lilium', role: 'DRIVER', note: 'driver, platform fleet' },
];

/** Inserts rows in chunks; the table and column names are the seed's own (from the first row), the values parameters. */
export async function insertRows(tx: Reader, table: string, rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const names = sql.raw(columns.join(', '));
  for (let start = 0; start < rows.length; start += 500) {
    const values = rows.slice(start, start + 500).map((row) => sql`(${sql.join(columns.map((c) => sql`${row[c]}`))})`);
    await tx.query(sql`INSERT INTO ${sql.raw(table)} (${names}) VALUES ${sql.join(values)}`);
  }
}

function leaves(nodes: CategorySeed[]): CategorySeed[] {
  return nodes.flatMap((n) => (n.children ? leaves(n.children) : [n]));
}

/** Shop owner N signs in by phone too, with a number one can guess: +964 773 000 00NN. */
export const shopPhone = (n: number) => `+964773${String(n).padStart(7, '0')}`;

/** Builds the deterministic demo set (same ids and data on every run) inside one transaction. */
export async function seed(tx: Tx, options: { password: string; bcryptCost: number; productsPerVendor?: number }): Promise<void> {
  faker.seed(SEED);
  const people = peopleFaker(SEED);
  const id = () => faker.string.uuid();
  const hash = await bcrypt.hash(options.password, options.bcryptCost);

  const zones = zoneSeeds.map((z) => ({ id: id(), code: z.code, name_ar: z.ar, name_en: z.en }));
  await insertRows(tx, 'zones', zones);

  // Wholesalers trade under both names; every other one is listed under its Arabic one.
  const vendors = vendorNames.map((name, i) => ({
    id: id(),
    name: name[i % 2 === 0 ? 'en' : 'ar'],
    status: i < 5 ? 'APPROVED' : 'PENDING',
    commission_bps: [800, 1000, 1250, 750, 1500, 1000][i]!,
  }));
  await insertRows(tx, 'vendors', vendors);
  await insertRows(
    tx,
    'vendor_commissions',
    vendors.map((v) => ({ vendor_id: v.id, commission_bps: v.commission_bps })),
  );
  const vendorZones = vendors.map((v, i) => (i === 0 ? zones : faker.helpers.arrayElements(zones, { min: 2, max: 4 })));
  await insertRows(
    tx,
    'vendor_zones',
    vendors.flatMap((v, i) =>
      vendorZones[i]!.map((z) => ({
        vendor_id: v.id,
        zone_id: z.id,
        delivery_fee_minor: faker.helpers.arrayElement([0, 1000, 2000, 3000]) * 1000,
        min_order_minor: faker.helpers.arrayElement([25, 50, 100]) * 1000 * 1000,
      })),
    ),
  );

  const categories: Record<string, unknown>[] = [];
  const walk = (nodes: CategorySeed[], parentId: string | null) =>
    nodes.forEach((n, position) => {
      const row = { id: id(), parent_id: parentId, name_ar: n.ar, name_en: n.en, slug: n.slug, position };
      categories.push(row);
      if (n.children) walk(n.children, row.id);
    });
  walk(categoryTree, null);
  await insertRows(tx, 'categories', categories);
  const categoryId = new Map(categories.map((c) => [c.slug as string, c.id as string]));

  const users: Record<string, unknown>[] = [];
  const userZones: Record<string, unknown>[] = [];
  const shops: Record<string, unknown>[] = [];
  const addresses: Record<string, unknown>[] = [];
  const SHOPS = 20;
  const phones = new Set(Array.from({ length: SHOPS }, (_, i) => shopPhone(i + 1)));
  const user = (role: Role, email: string, name: string, phoneNo = unique(phones, () => mobile(people)), vendorId: string | null = null) => {
    const row = { id: id(), role, name, email, phone: phoneNo, password_hash: hash, vendor_id: vendorId };
    users.push(row);
    return row;
  };
  const someone = (script: Script = pickScript(people)) => personName(people, script);
  user('SUPER_ADMIN', 'superadmin@demo.lilium', 'Sara Superadmin');
  user('ADMIN', 'admin@demo.lilium', 'Adam Admin');
  vendors.slice(0, 5).forEach((v, i) => {
    user('COMPANY_MANAGER', `manager${i + 1}@demo.lilium`, someone(), undefined, v.id);
    user('VENDOR', `vendor${i + 1}@demo.lilium`, someone(), undefined, v.id);
  });
  const shopNames = new Set<string>();
  for (let i = 1; i <= SHOPS; i++) {
    // The owner writes the shop's name and address in the script they write their own in.
    const script = pickScript(people);
    const owner = user('SHOP_OWNER', `shop${i}@demo.lilium`, someone(script), shopPhone(i));
    const zone = zones[(i - 1) % zones.length]!;
    const shop = { id: id(), owner_id: owner.id, name: unique(shopNames, () => shopName(people, script)), zone_id: zone.id };
    shops.push(shop);
    const { label, line, notes, lat, lng } = shopAddress(people, zone.code, script);
    addresses.push({ id: id(), shop_id: shop.id, label, line, zone_id: zone.id, notes, lat, lng, is_default: true });
  }
  for (let i = 1; i <= 6; i++) {
    // Odd drivers ride for a vendor's fleet, even ones for the platform.
    const vendorIndex = i % 2 === 1 ? (i - 1) / 2 : null;
    const driver = user('DRIVER', `driver${i}@demo.lilium`, someone(), undefined, vendorIndex === null ? null : vendors[vendorIndex]!.id);
    const served = vendorIndex === null ? zones : vendorZones[vendorIndex]!;
    for (const z of served) userZones.push({ user_id: driver.id, zone_id: z.id });
  }
  await insertRows(tx, 'users', users);
  await insertRows(tx, 'user_zones', userZones);
  await insertRows(tx, 'shops', shops);
  await insertRows(tx, 'addresses', addresses);

  const leafList = leaves(categoryTree);
  const products: Record<string, unknown>[] = [];
  const productZones: Record<string, unknown>[] = [];
  const perVendor = options.productsPerVendor ?? PRODUCTS_PER_VENDOR;
  vendors.slice(0, 5).forEach((v, vi) => {
    const names = new Set<string>();
    for (let n = 0; products.length < (vi + 1) * perVendor && n < perVendor * 20; n++) {
      const leaf = faker.helpers.arrayElement(leafList);
      const size: Tr = faker.helpers.arrayElement(leaf.items!.sizes);
      const brand = faker.helpers.arrayElement(brands);
      const en = `${brand.en} ${leaf.items!.name.en} ${size.en}`;
      if (names.has(en)) continue;
      names.add(en);
      const unit = faker.helpers.arrayElement(['PIECE', 'PACK', 'CARTON'] as const);
      const price = faker.number.int({ min: 1, max: 240 }) * 250 * 1000;
      const row = {
        id: id(),
        vendor_id: v.id,
        category_id: categoryId.get(leaf.slug)!,
        sku: `V${vi + 1}-${String(names.size).padStart(4, '0')}`,
        name_ar: `${leaf.items!.name.ar} ${brand.ar} ${size.ar}`,
        name_en: en,
        description_ar: `${leaf.items!.name.ar} من ${brand.ar}، ${size.ar}.`,
        description_en: `${leaf.items!.name.en} by ${brand.en}, ${size.en}.`,
        unit,
        units_per_pack: unit === 'PIECE' ? 1 : faker.helpers.arrayElement([6, 12, 24]),
        price_minor: price,
        compare_at_minor: faker.datatype.boolean({ probability: 0.15 }) ? Math.round((price * 1.2) / 1000) * 1000 : null,
        min_order_qty: faker.helpers.arrayElement([1, 1, 1, 2, 5]),
        stock: faker.number.int({ min: 0, max: 500 }),
        low_stock_threshold: 10,
        featured: faker.datatype.boolean({ probability: 0.1 }),
      };
      products.push(row);
      for (const z of vendorZones[vi]!) productZones.push({ product_id: row.id, zone_id: z.id });
    }
  });
  await insertRows(tx, 'products', products);
  await insertRows(tx, 'product_zones', productZones);
}

/** Seeds a database that has no users yet; answers whether it did. */
export async function seedIfEmpty(db: Db, config: { demoPassword: string; bcryptCost: number }): Promise<boolean> {
  return db.tx(async (tx) => {
    // Two nodes starting together on one empty database must not both seed it.
    await tx.query(sql`SELECT pg_advisory_xact_lock(7462001)`);
    const [row] = await tx.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM users`);
    if (row!.n > 0) return false;
    await seed(tx, { password: config.demoPassword, bcryptCost: config.bcryptCost });
    return true;
  });
}
