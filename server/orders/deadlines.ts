import { sql, type Sql } from '../../db/sql.js';
import type { OrderRow } from '../../db/tables.js';
import type { Deps } from '../deps.js';
import { notify, vendorManagers, zoneAdmins } from '../notifications/notify.js';
import { jobCtx } from '../jobs/job-context.js';
import type { TxCtx } from '../rpc/context.js';
import { SYSTEM, loadOrder } from './orders.read.js';
import { moveOrder } from './workflow.js';

/**
 * Acceptance deadlines. Each order's clock is fixed when it is placed (`accept_by`, `expire_at`) and each
 * deadline is a durable job written in the checkout's transaction: it survives restarts, runs once across
 * nodes, and a checkout that rolls back leaves none. A job that finds its order no longer PENDING does
 * nothing; the order row lock makes an accept and an expiry in the same instant one after the other, so
 * exactly one of them sees PENDING.
 */
export const DEADLINE_QUEUE = 'order-deadline';

export interface DeadlineJob {
  orderId: string;
  step: 'escalate' | 'expire';
}

/** The deadline columns of new orders, from `now()`: the window of the vendor in `vendorId` (else the default) and the expiry. */
export function deadlineValues(ctx: TxCtx, vendorId: Sql) {
  const { acceptanceWindowS, expiryS } = ctx.deps.config.deadlines;
  const window = sql`make_interval(secs => coalesce((SELECT acceptance_window_s FROM vendors WHERE id = ${vendorId}), ${acceptanceWindowS}::int))`;
  return { acceptBy: sql`now() + ${window}`, expireAt: expiryS > 0 ? sql`now() + make_interval(secs => ${expiryS}::int)` : sql`NULL::timestamptz` };
}

/** Queues the deadlines of new orders in the caller's transaction, all in one statement. */
export async function scheduleDeadlines(ctx: TxCtx, orders: Array<Pick<OrderRow, 'id' | 'accept_by' | 'expire_at'>>): Promise<void> {
  const job = (orderId: string, step: DeadlineJob['step'], at: Date | string) => ({
    queue: DEADLINE_QUEUE,
    data: { orderId, step } satisfies DeadlineJob,
    opts: { startAfter: new Date(at) },
  });
  await ctx.deps.jobs.sendMany(
    ctx,
    orders.flatMap((o) => [...(o.accept_by ? [job(o.id, 'escalate', o.accept_by)] : []), ...(o.expire_at ? [job(o.id, 'expire', o.expire_at)] : [])]),
  );
}

interface Waiting {
  shop: string;
  vendor: string;
  minutes: number;
}

/** Every node works the deadlines; a try that fails (the database away) is tried again with backoff. */
export async function startDeadlines(deps: Deps): Promise<void> {
  await deps.jobs.work<DeadlineJob>(DEADLINE_QUEUE, (data, job) => runDeadline(deps, data, job.id), { policy: { retryLimit: 20, retryDelayS: 5 } });
}

/** One deadline, in its own transaction. */
export async function runDeadline(deps: Deps, job: DeadlineJob, jobId: string): Promise<void> {
  await jobCtx(deps, jobId).tx(async (ctx) => {
    const [order] = await ctx.query<Pick<OrderRow, 'status' | 'escalated_at' | 'vendor_id' | 'zone_id' | 'number'> & Waiting>(
      sql`SELECT o.status, o.escalated_at, o.vendor_id, o.zone_id, o.number, s.name AS shop, v.name AS vendor,
                 ceil(extract(epoch FROM now() - o.created_at) / 60)::int AS minutes
            FROM orders o JOIN shops s ON s.id = o.shop_id JOIN vendors v ON v.id = o.vendor_id
           WHERE o.id = ${job.orderId} FOR UPDATE OF o`,
    );
    // Accepted, rejected or cancelled in time (or gone): the deadline has nothing left to do.
    if (!order || order.status !== 'PENDING') return;
    if (job.step === 'escalate') {
      if (order.escalated_at) return;
      await ctx.query(sql`UPDATE orders SET escalated_at = now() WHERE id = ${job.orderId}`);
      const [managers, admins] = await Promise.all([vendorManagers(ctx, order.vendor_id), zoneAdmins(ctx, order.zone_id)]);
      await notify(ctx, {
        kind: 'order.overdue',
        userIds: [...managers, ...admins],
        vars: { number: order.number, shop: order.shop, vendor: order.vendor, minutes: order.minutes },
        link: { type: 'order', id: job.orderId },
      });
      return;
    }
    await moveOrder(ctx, await loadOrder(ctx, SYSTEM, job.orderId), 'EXPIRED', SYSTEM, { reason: 'not accepted in time' });
  });
}
