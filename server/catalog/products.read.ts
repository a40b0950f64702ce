import type { Product } from '../../protocol/catalog.js';
import { sql } from '../../db/sql.js';
import type { ProductRow, VendorRow } from '../../db/tables.js';
import type { Reader } from '../../db/tx.js';

/** A product as read with its vendor (`PRODUCT_COLUMNS` from `PRODUCT_FROM`). */
export type ProductView = Omit<ProductRow, 'search_text' | 'search_tsv'> & {
  vendor_name: VendorRow['name'];
  vendor_status: VendorRow['status'];
};

export const PRODUCT_COLUMNS = sql`p.id, p.vendor_id, v.name AS vendor_name, v.status AS vendor_status, p.sku, p.name_ar, p.name_en, p.description_ar, p.description_en,
  p.category_id, p.unit, p.units_per_pack, p.price_minor, p.compare_at_minor, p.min_order_qty, p.stock, p.low_stock_threshold,
  p.zone_ids, p.images, p.featured, p.status, p.sold_count, p.created_at, p.updated_at, p.deleted_at`;
export const PRODUCT_FROM = sql`products p JOIN vendors v ON v.id = p.vendor_id`;

export const toProduct = (p: ProductView): Product => ({
  id: p.id,
  vendorId: p.vendor_id,
  vendorName: p.vendor_name,
  sku: p.sku,
  name: { ar: p.name_ar, en: p.name_en },
  description: { ar: p.description_ar, en: p.description_en },
  categoryId: p.category_id,
  // The table's CHECK constraints hold these to the protocol's values.
  unit: p.unit as Product['unit'],
  unitsPerPack: p.units_per_pack,
  price: p.price_minor,
  compareAtPrice: p.compare_at_minor,
  minOrderQty: p.min_order_qty,
  stock: p.stock,
  lowStockThreshold: p.low_stock_threshold,
  zoneIds: p.zone_ids,
  images: p.images,
  featured: p.featured,
  status: p.status as Product['status'],
  createdAt: new Date(p.created_at).toISOString(),
  updatedAt: new Date(p.updated_at).toISOString(),
});

export async function findProduct(r: Reader, id: string, lock = false): Promise<ProductView | undefined> {
  if (lock) await r.query(sql`SELECT 1 FROM products WHERE id = ${id} FOR UPDATE`);
  return (await r.query<ProductView>(sql`SELECT ${PRODUCT_COLUMNS} FROM ${PRODUCT_FROM} WHERE p.id = ${id} AND p.deleted_at IS NULL`))[0];
}
