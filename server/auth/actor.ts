import type { Role } from '../../protocol/common.js';
import { sql } from '../../db/sql.js';
import type { SessionRow } from '../../db/tables.js';
import type { Reader } from '../../db/tx.js';
import { USER_COLUMNS, USER_FROM, type UserView } from './user-view.js';

/** Who is calling, as loaded from the database when the socket authenticated. */
export interface Actor {
  userId: string;
  role: Role;
  sessionId: string;
  vendorId: string | null;
  shopId: string | null;
  zoneIds: string[];
}

/** A socket's authentication: who, and until when. */
export interface SocketSession {
  actor: Actor;
  /** When the access token that authenticated this socket expires (ms since epoch). */
  expiresAt: number;
}

/** Loads who a session belongs to, or null when the user or the session can no longer act. */
export async function loadActor(r: Reader, userId: string, sessionId: string): Promise<Actor | null> {
  const [row] = await r.query<UserView>(sql`
    SELECT ${USER_COLUMNS} FROM ${USER_FROM}
      JOIN sessions se ON se.id = ${sessionId} AND se.user_id = u.id AND se.revoked_at IS NULL
     WHERE u.id = ${userId} AND u.status = 'ACTIVE' AND u.deleted_at IS NULL`);
  return row ? toActor(row, sessionId) : null;
}

/** The actors of many sessions in one query (a node's periodic check); a session that can no longer act is absent. */
export async function loadActors(r: Reader, sessionIds: string[]): Promise<Map<string, Actor>> {
  const rows = await r.query<UserView & { session_id: SessionRow['id'] }>(sql`
    SELECT ${USER_COLUMNS}, se.id AS session_id FROM ${USER_FROM}
      JOIN sessions se ON se.user_id = u.id AND se.revoked_at IS NULL
     WHERE se.id = ANY(${sessionIds}::uuid[]) AND u.status = 'ACTIVE' AND u.deleted_at IS NULL`);
  return new Map(rows.map((row) => [row.session_id, toActor(row, row.session_id)]));
}

const toActor = (row: UserView, sessionId: string): Actor => ({
  userId: row.id,
  role: row.role,
  sessionId,
  vendorId: row.vendor_id,
  shopId: row.shop_id,
  zoneIds: row.zone_ids,
});

export const rooms = {
  user: (id: string) => `user:${id}`,
  session: (id: string) => `session:${id}`,
  shop: (id: string) => `shop:${id}`,
  vendor: (id: string) => `vendor:${id}`,
  driver: (id: string) => `driver:${id}`,
  zone: (id: string) => `zone:${id}`,
  admins: 'admins',
  /** Admins limited to zones hear only their zones' news, so they are not in `admins`. */
  adminZone: (id: string) => `admins:zone:${id}`,
};

/** Every admin who may see something that happened in these zones. */
export const adminRooms = (zoneIds: string[]): string[] => [rooms.admins, ...zoneIds.map(rooms.adminZone)];

/** The rooms a socket joins on authentication; clients never choose them. */
export function roomsOf(actor: Actor): string[] {
  const list = [rooms.user(actor.userId), rooms.session(actor.sessionId)];
  if (actor.shopId) list.push(rooms.shop(actor.shopId));
  if (actor.vendorId && (actor.role === 'VENDOR' || actor.role === 'COMPANY_MANAGER')) list.push(rooms.vendor(actor.vendorId));
  if (actor.role === 'DRIVER') list.push(rooms.driver(actor.userId));
  if (actor.role === 'SUPER_ADMIN' || (actor.role === 'ADMIN' && actor.zoneIds.length === 0)) list.push(rooms.admins);
  if (actor.role === 'ADMIN') list.push(...actor.zoneIds.map(rooms.adminZone));
  // Zone rooms carry what is sold and delivered there: for shops and drivers, not for staff.
  if (actor.role === 'SHOP_OWNER' || actor.role === 'DRIVER') for (const z of actor.zoneIds) list.push(rooms.zone(z));
  return list;
}
