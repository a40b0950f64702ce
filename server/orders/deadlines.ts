import { randomUUID } from 'node:crypto';
import { sql, type Sql } from '../../db/sql.js';
import type { OrderRow } from '../../db/tables.js';
import type { Deps } from '../deps.js';
import { notify, vendorManagers, zoneAdmins } from '../notifications/notify.js';
import { jobCtx } from '../jobs/job-context.js';
import type { TxCtx } from '../rpc/context.js';
import { SYSTEM, loadOrder } from './orders.read.js';
import { lockRestock, moveOrder } from './workflow.js';

/**
 * Acceptance deadlines. Each order's clock is fixed when it is placed (`accept_by`, `expire_at`), and its checkout row
 * carries the first deadline of its orders still to run (`checkouts.deadline_at`, written by the checkout's own
 * insert): that row is the durable job. Every node sweeps the due ones every JOBS_POLL_MS, so a deadline runs within
 * a poll of its time, as a queued job would, survives restarts, and a checkout that rolls back leaves none. A sweep
 * takes one due checkout row at a time in a transaction of its own (locked, SKIP LOCKED: two nodes never sweep one
 * checkout at once, and one that fails holds up no other), does what is due for each of its orders still PENDING,
 * and moves the row on to the next deadline still ahead (none: NULL). An order accepted in time costs its checkout
 * one update at the deadline. The order row lock makes an accept and an expiry in the same instant one after the
 * other, so exactly one of them sees PENDING.
 *
 * (Deadlines were a pg-boss job per checkout before: its insert, with the queue's foreign-key lock shared by every
 * checkout at once, cost a fifth of a checkout's database time; BENCHMARKS.md, tenth round.)
 */

/** The queue an older version put deadlines on (see startDeadlineJobs). */
const OLD_DEADLINE_QUEUE = 'order-deadline';

/** How long a checkout whose deadlines failed (a bug, a row gone from under it) waits before it is tried again. */
const RETRY_AFTER_S = 10;

/** The first deadline still to run of checkout `c`'s PENDING orders: acceptance until escalated, then expiry (NULL: none). */
const NEXT_OF_CHECKOUT = sql`(SELECT min(CASE WHEN o.escalated_at IS NULL THEN o.accept_by ELSE o.expire_at END)
                                FROM orders o WHERE o.checkout_id = c.id AND o.status = 'PENDING')`;

/** The deadline columns of new orders, from `now()`: the window of the vendor in `vendorId` (else the default) and the expiry. */
export function deadlineValues(ctx: TxCtx, vendorId: Sql) {
  const { acceptanceWindowS, expiryS } = ctx.deps.config.deadlines;
  const window = sql`make_interval(secs => coalesce((SELECT acceptance_window_s FROM vendors WHERE id = ${vendorId}), ${acceptanceWindowS}::int))`;
  return { acceptBy: sql`now() + ${window}`, expireAt: expiryS > 0 ? sql`now() + make_interval(secs => ${expiryS}::int)` : sql`NULL::timestamptz` };
}

interface Waiting {
  shop: string;
  vendor: string;
  minutes: number;
}

/** Starts this node's sweep of due deadlines; answers what stops it (the sweep under way ends after its checkout). */
export function startDeadlines(deps: Deps): () => Promise<void> {
  let running: Promise<void> | null = null;
  let stopped = false;
  const timer = setInterval(() => {
    // A slow database: never two sweeps at once on a node.
    running ??= sweepDeadlines(deps, () => stopped)
      .then(() => undefined)
      .catch((err: unknown) => deps.log.warn({ err }, 'deadline sweep failed'))
      .finally(() => (running = null));
  }, deps.config.jobs.pollMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}

/**
 * Runs every deadline now due, one checkout per transaction, until none is due or `stop` says so; answers how many
 * checkouts it took. A checkout whose steps fail is logged and put back RETRY_AFTER_S ahead; the database failing
 * ends the sweep, and the next one tries again.
 */
export async function sweepDeadlines(deps: Deps, stop: () => boolean = () => false): Promise<number> {
  let swept = 0;
  while (!stop()) {
    const ctx = jobCtx(deps, `deadlines-${randomUUID()}`);
    let taken: string | null = null;
    try {
      await ctx.tx(async (ctx) => {
        taken = await takeDue(ctx);
        if (taken) await runDue(ctx, taken);
      });
    } catch (err) {
      if (!taken) throw err;
      ctx.log.error({ err, checkoutId: taken }, 'deadlines failed; tried again later');
      await deps.db.query(sql`UPDATE checkouts SET deadline_at = now() + make_interval(secs => ${RETRY_AFTER_S}) WHERE id = ${taken} AND deadline_at <= now()`);
    }
    if (!taken) return swept;
    swept++;
  }
  return swept;
}

/** Locks the checkout whose deadline came first among those due and not being swept elsewhere; null for none. */
async function takeDue(ctx: TxCtx): Promise<string | null> {
  const [due] = await ctx.query<{ id: string }>(sql`SELECT id FROM checkouts WHERE deadline_at <= now() ORDER BY deadline_at LIMIT 1 FOR UPDATE SKIP LOCKED`);
  return due?.id ?? null;
}

/**
 * What is due of one checkout's orders, by the database's clock (the one that set the deadlines): an escalation
 * before an expiry. Only the orders with something due are locked, in id order, so an accept of another waits for
 * nothing and two sweeps never wait on each other crosswise.
 */
async function runDue(ctx: TxCtx, checkoutId: string): Promise<void> {
  const due = await ctx.query<{ id: string; escalate_due: boolean; expire_due: boolean }>(
    sql`SELECT id, escalated_at IS NULL AND accept_by <= now() AS escalate_due, coalesce(expire_at <= now(), false) AS expire_due
          FROM orders WHERE checkout_id = ${checkoutId} AND status = 'PENDING' AND ((escalated_at IS NULL AND accept_by <= now()) OR expire_at <= now())
         ORDER BY id FOR UPDATE`,
  );
  const expiring = due.filter((o) => o.expire_due).map((o) => o.id);
  if (expiring.length > 1) await lockRestock(ctx, expiring);
  for (const o of due) {
    if (o.escalate_due) await runStep(ctx, o.id, 'escalate');
    if (o.expire_due) await runStep(ctx, o.id, 'expire');
  }
  // Read after the steps, which this transaction sees: an escalated order waits for its expiry, an expired one for nothing.
  await ctx.query(sql`UPDATE checkouts c SET deadline_at = ${NEXT_OF_CHECKOUT} WHERE c.id = ${checkoutId}`);
}

/**
 * Works the jobs an older version queued for its deadlines (during a rolling deploy its nodes still do, for the
 * checkouts they write without a deadline): each puts its orders' checkouts on the sweep.
 */
export async function startDeadlineJobs(deps: Deps): Promise<void> {
  await deps.jobs.work<{ orderIds?: string[]; orderId?: string }>(OLD_DEADLINE_QUEUE, async (job) => {
    const orderIds = job.orderIds ?? (job.orderId ? [job.orderId] : []);
    await deps.db.query(
      sql`UPDATE checkouts c SET deadline_at = ${NEXT_OF_CHECKOUT}
           WHERE c.deadline_at IS NULL AND c.id IN (SELECT checkout_id FROM orders WHERE id = ANY(${orderIds}::uuid[]))`,
    );
  });
}

/** One step of one order's deadlines, in the caller's transaction. */
async function runStep(ctx: TxCtx, orderId: string, step: 'escalate' | 'expire'): Promise<void> {
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
