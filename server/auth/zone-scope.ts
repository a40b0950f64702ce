import type { Role } from '../../protocol/common.js';
import { ADMINS } from '../../protocol/users.js';
import { AppError, forbidden, notFound } from '../errors.js';
import type { Actor } from './actor.js';
import { sql, type Sql } from '../../db/sql.js';
import type { Reader } from '../../db/tx.js';

/**
 * The one zone rule of an ADMIN given zones (`users.zone_ids`), applied where each kind of object is read or
 * written, so no service has to remember it:
 * - an object is within reach when it touches one of the admin's zones (the predicates below); outside them it
 *   does not exist for the admin: NOT_FOUND, as another tenant's object, and absent from lists;
 * - what the admin creates or re-zones must lie inside its zones, and its edits of an object's zones leave the
 *   zones it does not hold as they were; what spans the whole platform (zones, categories, platform reports,
 *   platform-wide promotions) is refused. Both answer FORBIDDEN `{ reason: 'zone' }`.
 * Other roles have their own rules (their vendor, shop, assignments); for them, and for unlimited admins, this is a no-op.
 */

/** The zones an admin acts in; null when it is not limited (SUPER_ADMIN, an ADMIN with no zones, or not an admin). */
export function adminZones(actor: Actor): string[] | null {
  return actor.role === 'ADMIN' && actor.zoneIds.length > 0 ? actor.zoneIds : null;
}

export type ZonedKind = 'vendor' | 'product' | 'order' | 'user' | 'driver' | 'settlement' | 'promotion';

/** For each kind: true when the object whose id is the expression `id` touches one of the zones `zones`. */
const TOUCHES: Record<ZonedKind, (id: Sql, zones: Sql) => Sql> = {
  vendor: (id, zones) => sql`EXISTS (SELECT 1 FROM vendor_zones zv WHERE zv.vendor_id = ${id} AND zv.zone_id = ANY(${zones}))`,
  // Where it is sold: its own zones that its vendor still serves.
  product: (id, zones) =>
    sql`EXISTS (SELECT 1 FROM products zp JOIN product_zones zpz ON zpz.product_id = zp.id JOIN vendor_zones zvz ON zvz.vendor_id = zp.vendor_id AND zvz.zone_id = zpz.zone_id
              WHERE zp.id = ${id} AND zpz.zone_id = ANY(${zones}))`,
  order: (id, zones) => sql`EXISTS (SELECT 1 FROM orders zo WHERE zo.id = ${id} AND zo.zone_id = ANY(${zones}))`,
  // Where an account lives: a shop owner in its shop's zone, staff in their vendor's zones, drivers and admins in their own.
  user: (id, zones) =>
    sql`EXISTS (SELECT 1 FROM users zu LEFT JOIN shops zs ON zs.owner_id = zu.id WHERE zu.id = ${id} AND CASE
        WHEN zs.id IS NOT NULL THEN zs.zone_id = ANY(${zones})
        WHEN zu.role IN ('VENDOR', 'COMPANY_MANAGER') THEN ${TOUCHES.vendor(sql`zu.vendor_id`, zones)}
        ELSE EXISTS (SELECT 1 FROM user_zones zuz WHERE zuz.user_id = zu.id AND zuz.zone_id = ANY(${zones})) END)`,
  driver: (id, zones) => sql`EXISTS (SELECT 1 FROM user_zones zdz WHERE zdz.user_id = ${id} AND zdz.zone_id = ANY(${zones}))`,
  // Money follows its vendor.
  settlement: (id, zones) => sql`EXISTS (SELECT 1 FROM settlements zst WHERE zst.id = ${id} AND ${TOUCHES.vendor(sql`zst.vendor_id`, zones)})`,
  // Where it applies: the zones it names, or (naming none) wherever its vendor sells; a platform-wide one is in no admin's zones.
  promotion: (id, zones) =>
    sql`EXISTS (SELECT 1 FROM promotions zpr WHERE zpr.id = ${id}
        AND (zpr.zone_ids && ${zones} OR (cardinality(zpr.zone_ids) = 0 AND zpr.vendor_id IS NOT NULL AND ${TOUCHES.vendor(sql`zpr.vendor_id`, zones)})))`,
};

/** True for the rows of `kind` (whose id is the expression `id`, e.g. sql`p.id`) within the actor's zones. */
export function zoneScope(actor: Actor, kind: ZonedKind, id: Sql): Sql {
  const zones = adminZones(actor);
  return zones ? TOUCHES[kind](id, sql`${zones}::uuid[]`) : sql`true`;
}

/** One object of `kind`: NOT_FOUND, as if it did not exist, when it lies outside the actor's zones. */
export async function assertInZones(r: Reader, actor: Actor, kind: ZonedKind, id: string): Promise<void> {
  if (!adminZones(actor)) return;
  const [row] = await r.query<{ inside: boolean }>(sql`SELECT ${zoneScope(actor, kind, sql`${id}::uuid`)} AS inside`);
  if (!row?.inside) throw notFound(kind);
}

export const isAdmin = (role: Role) => (ADMINS as readonly Role[]).includes(role);

/** Admin work that spans every zone; `what` completes "only an admin not limited to zones may …". */
export function requireUnlimitedAdmin(actor: Actor, what: string): void {
  if (!isAdmin(actor.role)) throw forbidden('only an admin may do this');
  refuseZoneLimited(actor, what);
}

export const zoneForbidden = (message: string) => new AppError('FORBIDDEN', message, { reason: 'zone' });

/** Work that spans every zone is for admins not limited to zones; `what` completes "only an admin not limited to zones may …". */
export function refuseZoneLimited(actor: Actor, what: string): void {
  if (adminZones(actor)) throw zoneForbidden(`only an admin not limited to zones may ${what}`);
}

/** What a limited admin creates or places must name at least one zone, all of them its own. */
export function assertWithinZones(actor: Actor, zoneIds: readonly string[]): void {
  const zones = adminZones(actor);
  if (zones && (zoneIds.length === 0 || zoneIds.some((z) => !zones.includes(z)))) throw zoneForbidden('you may only act inside your zones');
}

/** The actor's own zones among `zoneIds` (all of them when it is not limited). */
export function ownZonesOf(actor: Actor, zoneIds: readonly string[]): string[] {
  const zones = adminZones(actor);
  return zones ? zoneIds.filter((z) => zones.includes(z)) : [...zoneIds];
}

/**
 * A limited admin's new set of an object's zones replaces only the zones it holds: `wanted` must lie inside them
 * (an empty set removes them all), and the object's other zones are kept as they are.
 */
export function mergeZones<T>(actor: Actor, current: readonly T[], wanted: readonly T[], zoneOf: (item: T) => string): T[] {
  const zones = adminZones(actor);
  if (!zones) return [...wanted];
  if (wanted.some((w) => !zones.includes(zoneOf(w)))) throw zoneForbidden('you may only change your own zones');
  return [...current.filter((c) => !zones.includes(zoneOf(c))), ...wanted];
}
