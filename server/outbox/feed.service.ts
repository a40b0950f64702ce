import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { roomsOf } from '../auth/actor.js';
import { actorOf, type Ctx } from '../rpc/context.js';

/**
 * What a reconnecting client missed, for its own rooms. One statement, so the rows and the top
 * seq come from one snapshot: nothing at or below `lastSeq` can appear later.
 */
export async function syncFeed(ctx: Ctx, input: ParsedInputOf<'feed:sync'>): Promise<ResultOf<'feed:sync'>> {
  const rooms = roomsOf(actorOf(ctx)).filter((r) => !r.startsWith('session:'));
  const rows = await ctx.read((r) =>
    r.query<{ seq: number; event: string; data: unknown; at: Date; top: number }>(
      `WITH top AS (SELECT coalesce(max(seq), 0)::bigint AS top FROM outbox)
       SELECT o.seq, o.event, o.data, o.at, top.top FROM top LEFT JOIN LATERAL (
         SELECT seq, event, data, at FROM outbox WHERE seq > $1 AND seq <= top.top AND rooms && $2::text[] ORDER BY seq LIMIT $3
       ) o ON true`,
      [input.afterSeq, rooms, input.limit + 1],
    ),
  );
  const top = rows[0]?.top ?? input.afterSeq;
  const found = rows.filter((r) => r.seq !== null);
  const hasMore = found.length > input.limit;
  const events = found.slice(0, input.limit).map((r) => ({ seq: r.seq, event: r.event, at: new Date(r.at).toISOString(), data: r.data }));
  return { events, lastSeq: hasMore ? events[events.length - 1]!.seq : Math.max(top, input.afterSeq), hasMore };
}
