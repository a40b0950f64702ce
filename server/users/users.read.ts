import type { User } from '../../protocol/users.js';
import type { Reader } from '../../db/tx.js';

export const USER_COLUMNS = `u.id, u.role, u.name, u.email, u.phone, u.status, u.vendor_id, u.created_at,
  s.id AS shop_id,
  CASE WHEN s.id IS NOT NULL THEN ARRAY[s.zone_id]
       WHEN u.role IN ('VENDOR', 'COMPANY_MANAGER') THEN coalesce((SELECT array_agg(vz.zone_id ORDER BY vz.zone_id) FROM vendor_zones vz WHERE vz.vendor_id = u.vendor_id), '{}')
       ELSE coalesce((SELECT array_agg(uz.zone_id ORDER BY uz.zone_id) FROM user_zones uz WHERE uz.user_id = u.id), '{}') END AS zone_ids`;
export const USER_FROM = 'users u LEFT JOIN shops s ON s.owner_id = u.id';

export interface UserRecord {
  id: string;
  role: User['role'];
  name: string;
  email: string | null;
  phone: string | null;
  status: User['status'];
  vendor_id: string | null;
  shop_id: string | null;
  zone_ids: string[];
  created_at: Date;
}

export function toUser(row: UserRecord): User {
  return {
    id: row.id,
    role: row.role,
    name: row.name,
    email: row.email,
    phone: row.phone,
    status: row.status,
    vendorId: row.vendor_id,
    shopId: row.shop_id,
    zoneIds: row.zone_ids,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export async function findUser(r: Reader, id: string): Promise<User | null> {
  const [row] = await r.query<UserRecord>(`SELECT ${USER_COLUMNS} FROM ${USER_FROM} WHERE u.id = $1 AND u.deleted_at IS NULL`, [id]);
  return row ? toUser(row) : null;
}
