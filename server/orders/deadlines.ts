import { sql, type Sql } from '../../db/sql.js';
import type { OrderRow } from '../../db/tables.js';
import type { Deps } from '../deps.js';
import { notify, vendorManagers, zoneAdmins } from '../notifications/notify.js';
import { jobCtx } from '../jobs/job-context.js';
import type { TxCtx } from '../rpc/context.js';
import { SYSTEM, loadOrder } from './orders.read.js';
import { moveOrder } from './workflow.js';

/**
 * Acceptance deadlines. Each order's clock is fixed when it is placed (`accept_by`, `expire_at`) and its deadlines
 * are a durable job written in the checkout's transaction: it survives restarts, runs once across nodes, and a
 * checkout that rolls back leaves none. One job per checkout, due at its orders' first deadline: it does what is due
 * for each order still PENDING and queues the next one for the deadlines still ahead, so a checkout writes one job row
 * rather than two per order, and an order accepted in time costs its job nothing more. A job that finds an order no
 * longer PENDING leaves it; the order row lock makes an accept and an expiry in the same instant one after the other,
 * so exactly one of them sees PENDING.
 */
export const DEADLINE_QUEUE = 'order-deadline';

/** What a deadline job carries: the orders whose due deadlines it runs, or (jobs queued before those) one order's one step. */
export type DeadlineJob = { orderIds: string[] } | { orderId: string; step: DeadlineStep };
type DeadlineStep = 'escalate' | 'expire';

/** The deadline columns of new orders, from `now()`: the window of the vendor in `vendorId` (else the default) and the expiry. */
export function deadlineValues(ctx: TxCtx, vendorId: Sql) {
  const { acceptanceWindowS, expiryS } = ctx.deps.config.deadlines;
  const window = sql`make_interval(secs => coalesce((SELECT acceptance_window_s FROM vendors WHERE id = ${vendorId}), ${acceptanceWindowS}::int))`;
  return { acceptBy: sql`now() + ${window}`, expireAt: expiryS > 0 ? sql`now() + make_interval(secs => ${expiryS}::int)` : sql`NULL::timestamptz` };
}

type Deadlines = Pick<OrderRow, 'id' | 'accept_by' | 'expire_at'>;

/** The first deadline still ahead among these orders (an order's acceptance one only until it has escalated); null for none. */
function nextDeadline(orders: Array<Deadlines & { escalated?: boolean }>, after = 0): Date | null {
  const times = orders
    // A millisecond later than the database's microseconds: a job never starts before its deadline has passed.
    .flatMap((o) => [o.accept_by && !o.escalated ? o.accept_by : null, o.expire_at].flatMap((t) => (t ? [new Date(t).getTime() + 1] : [])))
    .filter((t) => t > after);
  return times.length ? new Date(Math.min(...times)) : null;
}

/** Queues the deadlines of new orders in the caller's transaction: one job, due at the first of them. */
export async function scheduleDeadlines(ctx: TxCtx, orders: Deadlines[]): Promise<void> {
  const at = nextDeadline(orders);
  if (!at) return;
  await ctx.deps.jobs.sendMany(ctx, [{ queue: DEADLINE_QUEUE, data: { orderIds: orders.map((o) => o.id) } satisfies DeadlineJob, opts: { startAfter: at } }]);
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

/** One deadline job, in its own transaction. */
export async function runDeadline(deps: Deps, job: DeadlineJob, jobId: string): Promise<void> {
  if ('orderIds' in job) return runDue(deps, job.orderIds, jobId);
  await jobCtx(deps, jobId).tx((ctx) => runStep(ctx, job.orderId, job.step));
}

/**
 * The deadlines now due of those orders still PENDING, by the database's clock (the one that set them), an
 * escalation before an expiry; then one job for the deadlines still ahead. The orders are locked in id order, so
 * two of these never wait on each other crosswise.
 */
async function runDue(deps: Deps, orderIds: string[], jobId: string): Promise<void> {
  await jobCtx(deps, jobId).tx(async (ctx) => {
    const pending = await ctx.query<Deadlines & { escalated: boolean; escalate_due: boolean; expire_due: boolean; now: Date }>(
      sql`SELECT id, accept_by, expire_at, escalated_at IS NOT NULL AS escalated, coalesce(accept_by <= now(), false) AS escalate_due,
                 coalesce(expire_at <= now(), false) AS expire_due, now() AS now
            FROM orders WHERE id = ANY(${orderIds}::uuid[]) AND status = 'PENDING' ORDER BY id FOR UPDATE`,
    );
    for (const o of pending) {
      if (o.escalate_due && !o.escalated) await runStep(ctx, o.id, 'escalate');
      if (o.expire_due) await runStep(ctx, o.id, 'expire');
    }
    const ahead = pending.filter((o) => !o.expire_due);
    const at = nextDeadline(
      ahead.map((o) => ({ ...o, escalated: o.escalated || o.escalate_due })),
      pending[0] ? new Date(pending[0].now).getTime() : 0,
    );
    if (at)
      await ctx.deps.jobs.sendMany(ctx, [
        { queue: DEADLINE_QUEUE, data: { orderIds: ahead.map((o) => o.id) } satisfies DeadlineJob, opts: { startAfter: at } },
      ]);
  });
}

/** One step of one order's deadlines, in the caller's transaction. */
async function runStep(ctx: TxCtx, orderId: string, step: DeadlineStep): Promise<void> {
  const [order] = await ctx.query<Pick<OrderRow, 'status' | 'escalated_at' | 'vendor_id' | 'zone_id' | 'number'> & Waiting>(
    sql`SELECT o.status, o.escalated_at, o.vendor_id, o.zone_id, o.number, s.name AS shop, v.name AS vendor,
                 ceil(extract(epoch FROM now() - o.created_at) / 60)::int AS minutes
            FROM orders o JOIN shops s ON s.id = o.shop_id JOIN vendors v ON v.id = o.vendor_id
           WHERE o.id = ${orderId} FOR UPDATE OF o`,
  );
  // Accepted, rejected or cancelled in time (or gone): the deadline has nothing left to do.
  if (!order || order.status !== 'PENDING') return;
  if (step === 'escalate') {
    if (order.escalated_at) return;
    await ctx.query(sql`UPDATE orders SET escalated_at = now() WHERE id = ${orderId}`);
    const [managers, admins] = await Promise.all([vendorManagers(ctx, order.vendor_id), zoneAdmins(ctx, order.zone_id)]);
    await notify(ctx, {
      kind: 'order.overdue',
      userIds: [...managers, ...admins],
      vars: { number: order.number, shop: order.shop, vendor: order.vendor, minutes: order.minutes },
      link: { type: 'order', id: orderId },
    });
    return;
  }
  await moveOrder(ctx, await loadOrder(ctx, SYSTEM, orderId), 'EXPIRED', SYSTEM, { reason: 'not accepted in time' });
}
