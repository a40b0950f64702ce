import type { Locale, Role } from '../../protocol/common.js';
import type { User } from '../../protocol/users.js';
import { sql } from '../../db/sql.js';
import type { ShopRow, UserRow } from '../../db/tables.js';
import type { Reader } from '../../db/tx.js';
import type { Config } from '../config.js';

/** An account with its reach: its shop, and the zones it lives in (its shop's, its vendor's or its own). */
export type UserView = Pick<UserRow, 'id' | 'name' | 'email' | 'phone' | 'vendor_id' | 'created_at'> & {
  // The table's checks keep role and status within the protocol's sets.
  role: Role;
  status: User['status'];
  /** Null: the deployment's default. */
  locale: Locale | null;
  shop_id: ShopRow['id'] | null;
  zone_ids: string[];
};

/** The columns of a `UserView`, over `USER_FROM`. */
export const USER_COLUMNS = sql`u.id, u.role, u.name, u.email, u.phone, u.status, u.vendor_id, u.locale, u.created_at,
  s.id AS shop_id,
  CASE WHEN s.id IS NOT NULL THEN ARRAY[s.zone_id]
       WHEN u.role IN ('VENDOR', 'COMPANY_MANAGER') THEN coalesce((SELECT array_agg(vz.zone_id ORDER BY vz.zone_id) FROM vendor_zones vz WHERE vz.vendor_id = u.vendor_id), '{}')
       ELSE coalesce((SELECT array_agg(uz.zone_id ORDER BY uz.zone_id) FROM user_zones uz WHERE uz.user_id = u.id), '{}') END AS zone_ids`;
export const USER_FROM = sql`users u LEFT JOIN shops s ON s.owner_id = u.id`;

/** `defaultLocale` is the deployment's (config `defaultLocale`), for accounts that chose none. */
export function toUser(row: UserView, defaultLocale: Locale): User {
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
    locale: row.locale ?? defaultLocale,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export async function findUser(ctx: Reader & { deps: { config: Pick<Config, 'defaultLocale'> } }, id: string): Promise<User | null> {
  const [row] = await ctx.query<UserView>(sql`SELECT ${USER_COLUMNS} FROM ${USER_FROM} WHERE u.id = ${id} AND u.deleted_at IS NULL`.prepared());
  return row ? toUser(row, ctx.deps.config.defaultLocale) : null;
}
