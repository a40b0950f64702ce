import type { Role } from '../../protocol/common.js';
import { ADMINS } from '../../protocol/users.js';
import { forbidden } from '../errors.js';
import type { Actor } from '../rpc/context.js';

export const isAdmin = (role: Role) => (ADMINS as readonly Role[]).includes(role);

/** The zones an admin acts in; null when it is not limited (SUPER_ADMIN, or an ADMIN with no zones). */
export function adminZones(actor: Actor): string[] | null {
  return actor.role === 'ADMIN' && actor.zoneIds.length > 0 ? actor.zoneIds : null;
}

export function requireUnlimitedAdmin(actor: Actor): void {
  if (!isAdmin(actor.role) || adminZones(actor)) throw forbidden('only an admin not limited to zones may do this');
}

export interface Target {
  id: string;
  role: Role;
  vendorId: string | null;
  zoneIds: string[];
}

/** Whether `actor` may see and manage `target`: the object-level rule behind every users:* event. */
export function canManage(actor: Actor, target: Target): boolean {
  if (actor.role === 'SUPER_ADMIN') return true;
  if (actor.role === 'ADMIN') {
    if (isAdmin(target.role)) return false;
    const zones = adminZones(actor);
    return !zones || target.zoneIds.some((z) => zones.includes(z));
  }
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

/** The same rule as `canManage`, as SQL over a row `x` with role, vendor_id and zone_ids; `bind` adds a parameter. */
export function manageableSql(actor: Actor, bind: (value: unknown) => string): string {
  if (actor.role === 'SUPER_ADMIN') return 'true';
  if (actor.role === 'ADMIN') {
    const zones = adminZones(actor);
    return zones ? `(x.role NOT IN ('SUPER_ADMIN', 'ADMIN') AND x.zone_ids && ${bind(zones)}::uuid[])` : `x.role NOT IN ('SUPER_ADMIN', 'ADMIN')`;
  }
  if (actor.role === 'COMPANY_MANAGER') return `(x.role = 'VENDOR' AND x.vendor_id = ${bind(actor.vendorId)})`;
  return 'false';
}
