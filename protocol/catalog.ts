import { z } from 'zod';
import { Empty, Id, IdempotencyKey, IsoTime, L10n, Minor, PageInput, Price, Quantity, pageOf } from './common.js';
import { defineEvents, definePushes } from './spec.js';
import { ADMINS } from './users.js';

const Slug = z
  .string()
  .trim()
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lower-case words joined by -')
  .max(100);
const Url = z.string().trim().min(1).max(500);

export interface CategoryNode {
  id: string;
  parentId: string | null;
  name: { ar: string; en: string };
  slug: string;
  position: number;
  imageUrl: string | null;
  /** Products in this category and every category below it. */
  productCount: number;
  children: CategoryNode[];
}
export const CategoryNode: z.ZodType<CategoryNode> = z.lazy(() =>
  z.object({
    id: Id,
    parentId: Id.nullable(),
    name: L10n,
    slug: z.string(),
    position: z.int(),
    imageUrl: z.string().nullable(),
    productCount: z.int(),
    children: z.array(CategoryNode),
  }),
);
export const Category = z.object({ id: Id, parentId: Id.nullable(), name: L10n, slug: z.string(), position: z.int(), imageUrl: z.string().nullable() });

export const Unit = z.enum(['PIECE', 'PACK', 'CARTON']);
export const ProductStatus = z.enum(['ACTIVE', 'DRAFT']);
const Description = z.strictObject({ ar: z.string().max(5000), en: z.string().max(5000) });

export const Product = z.object({
  id: Id,
  vendorId: Id,
  vendorName: z.string(),
  sku: z.string(),
  name: L10n,
  description: z.object({ ar: z.string(), en: z.string() }),
  categoryId: Id,
  unit: Unit,
  unitsPerPack: z.int(),
  price: Minor,
  compareAtPrice: Minor.nullable(),
  minOrderQty: z.int(),
  stock: z.int(),
  lowStockThreshold: z.int(),
  zoneIds: z.array(Id),
  images: z.array(z.string()),
  featured: z.boolean(),
  status: ProductStatus,
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type Product = z.infer<typeof Product>;

const productFields = {
  sku: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, '1–64 letters, digits, . _ or -'),
  name: L10n,
  description: Description,
  categoryId: Id,
  /** At most MAX_PRICE_MINOR (10^10), so price × quantity always fits. */
  price: Price,
  compareAtPrice: Price.nullable(),
  unit: Unit,
  unitsPerPack: z.int().min(1).max(10_000),
  minOrderQty: Quantity,
  stock: z.int().min(0).max(10_000_000),
  lowStockThreshold: z.int().min(0).max(10_000_000),
  zoneIds: z.array(Id).max(100),
  images: z.array(Url).max(20),
  featured: z.boolean(),
  status: ProductStatus,
};
const CATALOG_STAFF = ['SUPER_ADMIN', 'ADMIN', 'COMPANY_MANAGER', 'VENDOR'] as const;

export const ProductSort = z.enum(['relevance', 'price_asc', 'price_desc', 'name', 'newest', 'popular']);

export const StockEntry = z.object({
  id: z.int(),
  productId: Id,
  delta: z.int(),
  stockAfter: z.int(),
  reason: z.string(),
  actorId: Id.nullable(),
  at: IsoTime,
});

export const ImportReport = z.object({
  jobId: Id,
  status: z.enum(['RUNNING', 'DONE', 'FAILED']),
  total: z.int(),
  processed: z.int(),
  created: z.int(),
  updated: z.int(),
  errors: z.array(z.object({ row: z.int(), field: z.string().nullable(), message: z.string() })),
});

export const catalogEvents = defineEvents({
  'categories:tree': {
    summary: 'The whole category tree with product counts that include descendants.',
    roles: 'signedIn',
    input: Empty,
    result: z.object({ items: z.array(CategoryNode) }),
  },
  'categories:create': {
    summary: 'Add a category under a parent (or at the top). Admins not limited to zones.',
    roles: ADMINS,
    input: z.strictObject({
      parentId: Id.nullable().optional(),
      name: L10n,
      slug: Slug.optional(),
      position: z.int().min(0).optional(),
      imageUrl: Url.nullable().optional(),
    }),
    result: Category,
  },
  'categories:update': {
    summary: 'Rename, re-slug, reorder among siblings, or change the image of a category (admins not limited to zones).',
    roles: ADMINS,
    input: z.strictObject({ id: Id, name: L10n.optional(), slug: Slug.optional(), position: z.int().min(0).optional(), imageUrl: Url.nullable().optional() }),
    result: Category,
  },
  'categories:move': {
    summary: 'Move a category under another parent (null: the top); refused with CONFLICT when it would become its own ancestor. Admins not limited to zones.',
    roles: ADMINS,
    input: z.strictObject({ id: Id, parentId: Id.nullable(), position: z.int().min(0).optional() }),
    result: Category,
  },
  'categories:delete': {
    summary:
      'Delete a category. Refused with CONFLICT while it has products or children, unless `reassignTo` names where they go (moved in one transaction). Admins not limited to zones.',
    roles: ADMINS,
    input: z.strictObject({ id: Id, reassignTo: Id.optional() }),
    result: z.object({ id: Id, movedProducts: z.int(), movedChildren: z.int() }),
  },
  'products:list': {
    summary:
      'Orderable products (ACTIVE, of APPROVED vendors; vendor staff also see their own drafts). A shop owner sees only its zone. `q` searches Arabic and English, forgiving spelling variants, typos and partial words.',
    roles: 'signedIn',
    input: z.strictObject({
      q: z.string().trim().min(1).max(100).optional(),
      categoryId: Id.optional(),
      vendorId: Id.optional(),
      zoneId: Id.optional(),
      minPrice: Minor.optional(),
      maxPrice: Minor.optional(),
      inStock: z.boolean().optional(),
      featured: z.boolean().optional(),
      sort: ProductSort.optional(),
      ...PageInput,
    }),
    result: pageOf(Product),
  },
  'products:get': {
    summary: 'One product, under the same visibility as products:list.',
    roles: 'signedIn',
    input: z.strictObject({ id: Id }),
    result: Product,
  },
  'products:create': {
    summary: 'Add a product to a vendor’s catalogue (staff: their own vendor; admins name `vendorId`). Zones default to the vendor’s.',
    roles: CATALOG_STAFF,
    input: z.strictObject({
      vendorId: Id.optional(),
      ...productFields,
      description: Description.optional(),
      compareAtPrice: productFields.compareAtPrice.optional(),
      unitsPerPack: productFields.unitsPerPack.optional(),
      minOrderQty: productFields.minOrderQty.optional(),
      stock: productFields.stock.optional(),
      lowStockThreshold: productFields.lowStockThreshold.optional(),
      zoneIds: productFields.zoneIds.optional(),
      images: productFields.images.optional(),
      featured: productFields.featured.optional(),
      status: productFields.status.optional(),
    }),
    result: Product,
  },
  'products:update': {
    summary: 'Change a product. Stock changes only through stock:adjust, so each has a reason.',
    roles: CATALOG_STAFF,
    input: z
      .strictObject({
        id: Id,
        sku: productFields.sku.optional(),
        name: L10n.optional(),
        description: Description.optional(),
        categoryId: Id.optional(),
        price: productFields.price.optional(),
        compareAtPrice: productFields.compareAtPrice.optional(),
        unit: Unit.optional(),
        unitsPerPack: productFields.unitsPerPack.optional(),
        minOrderQty: productFields.minOrderQty.optional(),
        lowStockThreshold: productFields.lowStockThreshold.optional(),
        zoneIds: productFields.zoneIds.optional(),
        images: productFields.images.optional(),
        featured: z.boolean().optional(),
        status: ProductStatus.optional(),
      })
      .refine((v) => Object.keys(v).length > 1, 'nothing to change'),
    result: Product,
  },
  'products:delete': {
    summary: 'Remove a product from the catalogue (kept for order history).',
    roles: CATALOG_STAFF,
    input: z.strictObject({ id: Id }),
    result: z.object({ id: Id }),
  },
  'products:import': {
    summary:
      'Create or update a vendor’s products by SKU from an uploaded CSV (`POST /uploads`). Every row is checked first; `all-or-nothing` imports nothing when any row is bad, `partial` imports the good rows. Progress comes as import:progress pushes.',
    roles: CATALOG_STAFF,
    input: z.strictObject({ uploadId: Id, vendorId: Id.optional(), mode: z.enum(['all-or-nothing', 'partial']).default('all-or-nothing') }),
    result: ImportReport,
  },
  'products:export': {
    summary: 'A CSV of a vendor’s products, in the import format; answers where to download it.',
    roles: CATALOG_STAFF,
    input: z.strictObject({ vendorId: Id.optional() }),
    result: z.object({ url: z.string(), rows: z.int() }),
  },
  'stock:adjust': {
    summary: 'Add or remove stock with a reason; never below zero (INSUFFICIENT_STOCK). Idempotent.',
    roles: CATALOG_STAFF,
    input: z.strictObject({
      productId: Id,
      delta: z
        .int()
        .min(-10_000_000)
        .max(10_000_000)
        .refine((d) => d !== 0, 'must not be 0'),
      reason: z.string().trim().min(1).max(200),
      idempotencyKey: IdempotencyKey,
    }),
    result: z.object({ productId: Id, stock: z.int() }),
  },
  'stock:history': {
    summary: 'Every stock movement of a product, newest first.',
    roles: CATALOG_STAFF,
    input: z.strictObject({ productId: Id, ...PageInput }),
    result: pageOf(StockEntry),
  },
});

export const catalogPushes = definePushes({
  'stock:changed': {
    summary: 'A product’s stock or price changed (coalesced: at most a few per second per product).',
    to: 'zone:<id> for the zones the product is sold in',
    data: z.object({ productId: Id, stock: z.int(), price: Minor }),
    stored: true,
  },
  'import:progress': {
    summary: 'Progress of a CSV import started by this user.',
    to: 'user:<id> of whoever started it',
    data: ImportReport,
    stored: false,
  },
});
