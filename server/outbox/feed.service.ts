import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import type { OutboxRow } from '../../db/tables.js';
import { roomsOf } from '../auth/actor.js';
import { actorOf, type Ctx } from '../rpc/context.js';

/**
 * What a reconnecting client missed, for its own rooms. One statement, so the rows and the top
 * seq come from one snapshot: nothing at or below `lastSeq` can appear later.
 */
export async function syncFeed(ctx: Ctx, input: ParsedInputOf<'feed:sync'>): Promise<ResultOf<'feed:sync'>> {
  const rooms = roomsOf(actorOf(ctx)).filter((r) => !r.startsWith('session:'));
  // A LEFT JOIN, so the top comes back even when nothing was missed: seq and the rest are then null.
  const rows = await ctx.query<Pick<OutboxRow, 'seq' | 'event' | 'data' | 'at'> & { top: number }>(sql`
    WITH top AS (SELECT coalesce(max(seq), 0)::bigint AS top FROM outbox)
    SELECT o.seq, o.event, o.data, o.at, top.top FROM top LEFT JOIN LATERAL (
      SELECT seq, event, data, at FROM outbox WHERE seq > ${input.afterSeq} AND seq <= top.top AND rooms && ${rooms}::text[] ORDER BY seq LIMIT ${input.limit + 1}
    ) o ON true`);
  const top = rows[0]?.top ?? input.afterSeq;
  const found = rows.filter((r): r is typeof r & { seq: number } => r.seq !== null);
  const hasMore = found.length > input.limit;
  const events = found.slice(0, input.limit).map((r) => ({ seq: r.seq, event: r.event, at: new Date(r.at).toISOString(), data: r.data }));
  return { events, lastSeq: hasMore ? events[events.length - 1]!.seq : Math.max(top, input.afterSeq), hasMore };
}
