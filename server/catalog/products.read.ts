import type { Product } from '../../protocol/catalog.js';
import type { Reader } from '../../db/tx.js';

export interface ProductRecord {
  id: string;
  vendor_id: string;
  vendor_name: string;
  vendor_status: string;
  sku: string;
  name_ar: string;
  name_en: string;
  description_ar: string;
  description_en: string;
  category_id: string;
  unit: Product['unit'];
  units_per_pack: number;
  price_minor: number;
  compare_at_minor: number | null;
  min_order_qty: number;
  stock: number;
  low_stock_threshold: number;
  zone_ids: string[];
  images: string[];
  featured: boolean;
  status: Product['status'];
  sold_count: number;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export const PRODUCT_COLUMNS = `p.id, p.vendor_id, v.name AS vendor_name, v.status AS vendor_status, p.sku, p.name_ar, p.name_en, p.description_ar, p.description_en,
  p.category_id, p.unit, p.units_per_pack, p.price_minor, p.compare_at_minor, p.min_order_qty, p.stock, p.low_stock_threshold,
  coalesce((SELECT array_agg(pz.zone_id ORDER BY pz.zone_id) FROM product_zones pz WHERE pz.product_id = p.id), '{}') AS zone_ids,
  p.images, p.featured, p.status, p.sold_count, p.created_at, p.updated_at, p.deleted_at`;
export const PRODUCT_FROM = 'products p JOIN vendors v ON v.id = p.vendor_id';

export const toProduct = (p: ProductRecord): Product => ({
  id: p.id,
  vendorId: p.vendor_id,
  vendorName: p.vendor_name,
  sku: p.sku,
  name: { ar: p.name_ar, en: p.name_en },
  description: { ar: p.description_ar, en: p.description_en },
  categoryId: p.category_id,
  unit: p.unit,
  unitsPerPack: p.units_per_pack,
  price: p.price_minor,
  compareAtPrice: p.compare_at_minor,
  minOrderQty: p.min_order_qty,
  stock: p.stock,
  lowStockThreshold: p.low_stock_threshold,
  zoneIds: p.zone_ids,
  images: p.images,
  featured: p.featured,
  status: p.status,
  createdAt: new Date(p.created_at).toISOString(),
  updatedAt: new Date(p.updated_at).toISOString(),
});

export async function findProduct(r: Reader, id: string, lock = false): Promise<ProductRecord | undefined> {
  if (lock) await r.query('SELECT 1 FROM products WHERE id = $1 FOR UPDATE', [id]);
  return (await r.query<ProductRecord>(`SELECT ${PRODUCT_COLUMNS} FROM ${PRODUCT_FROM} WHERE p.id = $1 AND p.deleted_at IS NULL`, [id]))[0];
}
