import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Notification, NotificationGroup, NotificationKind, NotificationLink } from '../../protocol/notifications.js';
import { sql } from '../../db/sql.js';
import type { NotificationRow } from '../../db/tables.js';
import { gather, type Held, type Reader, type Tx } from '../../db/tx.js';
import { rooms } from '../auth/actor.js';
import { AppError } from '../errors.js';
import { tell } from '../outbox/outbox.js';
import { afterCursor, page } from '../pagination.js';
import { actorOf, type Ctx } from '../rpc/context.js';

export type NotificationView = Pick<NotificationRow, 'id' | 'kind' | 'group' | 'title' | 'body' | 'link_type' | 'link_id' | 'read_at' | 'created_at'>;

// notify() writes only protocol kinds, groups and link types (and the table checks the latter two).
export const toNotification = (n: NotificationView): Notification => ({
  id: n.id,
  kind: n.kind as NotificationKind,
  group: n.group as NotificationGroup,
  title: n.title,
  body: n.body,
  link: n.link_type && n.link_id ? { type: n.link_type as NotificationLink['type'], id: n.link_id } : null,
  readAt: n.read_at ? new Date(n.read_at).toISOString() : null,
  createdAt: new Date(n.created_at).toISOString(),
});

export async function unreadCount(r: Reader, userId: string): Promise<number> {
  const [row] = await r.query<{ n: number }>(sql`SELECT coalesce((SELECT unread FROM notification_unread WHERE user_id = ${userId}), 0) AS n`);
  return row!.n;
}

/**
 * Sets a person's kept count from their unread rows, after locking it: every notice counted before the lock is then
 * visible to the count, and one still to commit adds itself after. Reading is rare beside telling, so a count left
 * wrong (by a node of an older version that wrote or marked without counting, during a deploy) is mended here.
 */
async function recount(ctx: Tx, userId: string): Promise<number> {
  await ctx.query(sql`INSERT INTO notification_unread AS c (user_id, unread) VALUES (${userId}, 0) ON CONFLICT (user_id) DO UPDATE SET unread = c.unread`);
  const [row] = await ctx.query<{ unread: number }>(sql`
    UPDATE notification_unread SET unread = (SELECT count(*)::int FROM notifications WHERE user_id = ${userId} AND read_at IS NULL)
     WHERE user_id = ${userId} RETURNING unread`);
  return row!.unread;
}

/** What a transaction's new notifications are gathered under: their recipients, one id per notification. */
const NEW_UNREAD = {};

/**
 * Adds a transaction's new notifications to their recipients' kept unread counts, in the statement it sends just
 * before COMMIT: one upsert for the whole transaction, in user order. So the counters' row locks are the last a
 * transaction takes, always in the same order: two checkouts to one vendor wait for each other only for that
 * statement and the COMMIT, and cannot deadlock (`notifications:read` locks its reader's alone, then takes no other
 * lock, writing only new rows). Answers, per user, how many the transaction had counted before these.
 */
export function countAtCommit(ctx: Tx, userIds: string[]): Map<string, number> {
  const all = gather(ctx, NEW_UNREAD, userIds, unreadUpsert);
  const before = new Map<string, number>();
  for (const id of all.slice(0, all.length - userIds.length)) before.set(id, (before.get(id) ?? 0) + 1);
  return before;
}

function unreadUpsert(userIds: string[]): Held {
  const counts = new Map<string, number>();
  for (const id of userIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  return {
    write: sql`INSERT INTO notification_unread AS c (user_id, unread)
               SELECT * FROM unnest(${[...counts.keys()]}::uuid[], ${[...counts.values()]}::int[]) AS t(user_id, n) ORDER BY t.user_id
               ON CONFLICT (user_id) DO UPDATE SET unread = c.unread + excluded.unread`,
  };
}

export async function listNotifications(ctx: Ctx, input: ParsedInputOf<'notifications:list'>): Promise<ResultOf<'notifications:list'>> {
  const { userId } = actorOf(ctx);
  const where = sql.and([
    sql`user_id = ${userId}`,
    ...(input.unread === undefined ? [] : [input.unread ? sql`read_at IS NULL` : sql`read_at IS NOT NULL`]),
    ...(input.kind ? [sql`kind = ${input.kind}`] : []),
    afterCursor(input.cursor, [
      [sql`created_at`, 'timestamptz'],
      [sql`id`, 'uuid'],
    ]),
  ]);
  const rows = await ctx.query<NotificationView & { created_key: string }>(sql`
    SELECT id, kind, "group", title, body, link_type, link_id, read_at, created_at, created_at::text AS created_key
      FROM notifications WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT ${input.limit + 1}`);
  return page(rows, input.limit, toNotification, (n) => [n.created_key, n.id]);
}

/**
 * Marks the caller's own notifications read, all or the ones named. Ids that are not the caller's (another
 * person's, or none at all) are NOT_FOUND alike and nothing is marked, so a client learns nothing of others'.
 */
export async function readNotifications(ctx: Ctx, input: ParsedInputOf<'notifications:read'>): Promise<ResultOf<'notifications:read'>> {
  const { userId } = actorOf(ctx);
  const ids = input.ids ? [...new Set(input.ids)] : null;
  return ctx.tx(async (ctx) => {
    if (ids) {
      const mine = new Set(
        (await ctx.query<Pick<NotificationRow, 'id'>>(sql`SELECT id FROM notifications WHERE user_id = ${userId} AND id = ANY(${ids}::uuid[])`)).map(
          (r) => r.id,
        ),
      );
      const missing = ids.filter((id) => !mine.has(id));
      if (missing.length) throw new AppError('NOT_FOUND', 'no such notification of yours', { ids: missing });
    }
    const marked = await ctx.query<Pick<NotificationRow, 'id'>>(sql`
      UPDATE notifications SET read_at = now()
       WHERE user_id = ${userId} AND read_at IS NULL${ids ? sql` AND id = ANY(${ids}::uuid[])` : sql.empty} RETURNING id`);
    const unread = marked.length ? await recount(ctx, userId) : await unreadCount(ctx, userId);
    // The user's other devices update their badge; this socket has the answer.
    if (marked.length) await tell(ctx, [rooms.user(userId)], 'notification:read', { ids: ids && marked.map((m) => m.id), unread }, { except: ctx.socketId });
    return { updated: marked.length, unread };
  });
}

export async function countUnread(ctx: Ctx): Promise<ResultOf<'notifications:unread-count'>> {
  return { unread: await unreadCount(ctx, actorOf(ctx).userId) };
}
