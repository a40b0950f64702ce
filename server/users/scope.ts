import type { Role } from '../../protocol/common.js';
import { isAdmin } from '../auth/zone-scope.js';
import type { Actor } from '../auth/actor.js';
import { sql, type Sql } from '../../db/sql.js';

export interface Target {
  id: string;
  role: Role;
  vendorId: string | null;
  zoneIds: string[];
}

/**
 * Whether `actor` may see and manage `target`, by role: the object-level rule behind every users:* event.
 * A zone-limited admin's zones are applied where the row is loaded (zone-scope.ts).
 */
export function canManage(actor: Actor, target: Target): boolean {
  if (actor.role === 'SUPER_ADMIN') return true;
  if (actor.role === 'ADMIN') return !isAdmin(target.role);
  if (actor.role === 'COMPANY_MANAGER') return target.role === 'VENDOR' && target.vendorId === actor.vendorId;
  return false;
}

/** Whether `actor` may give an account this role (creating it, or changing it to it). */
export function canAssignRole(actor: Actor, role: Role): boolean {
  if (actor.role === 'SUPER_ADMIN') return true;
  if (actor.role === 'ADMIN') return !isAdmin(role);
  if (actor.role === 'COMPANY_MANAGER') return role === 'VENDOR';
  return false;
}

/** The same rule as `canManage`, as SQL over the account row `row` (e.g. sql`x`), which has role and vendor_id. */
export function manageableSql(actor: Actor, row: Sql): Sql {
  if (actor.role === 'SUPER_ADMIN') return sql`true`;
  if (actor.role === 'ADMIN') return sql`${row}.role NOT IN ('SUPER_ADMIN', 'ADMIN')`;
  if (actor.role === 'COMPANY_MANAGER') return sql`(${row}.role = 'VENDOR' AND ${row}.vendor_id = ${actor.vendorId})`;
  return sql`false`;
}
