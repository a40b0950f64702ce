import { sql } from '../../db/sql.js';
import type { NotificationDeliveryRow } from '../../db/tables.js';
import type { NotificationChannel } from '../../protocol/index.js';
import type { Deps } from '../deps.js';
import { jobCtx } from '../jobs/job-context.js';
import type { JobInfo } from '../jobs/jobs.js';
import type { CounterHandle } from '../metrics.js';
import { DeliveryError, type OutboundMessage } from './channels/channel.js';
import { DELIVERY_DEAD_QUEUE, DELIVERY_QUEUE, deliveryIdsOf, queueTry, type DeliveryJob } from './deliveries.js';
import { retryDelayMs } from './retry.js';

/** Senders per node: sending waits on the network, not on this process. */
const CONCURRENCY = 4;
/** Jobs a sender takes at once (each with the deliveries of one transaction): one fetch, one read, one record of those that went out and one completion for all. */
const BATCH = 8;

/**
 * The queue's own retries are for a try that never reached its end (its node died, or the database failed while
 * recording it); a provider's answer is handled below, with the delivery's own tries and backoff. Expiry is the
 * longest a send may take before its node is taken for dead.
 */
const POLICY = { retryLimit: 5, retryDelayS: 5, expireInS: 120, deadLetter: DELIVERY_DEAD_QUEUE };

type Outcome = 'sent' | 'retried' | 'dead';
type Loaded = Pick<NotificationDeliveryRow, 'id' | 'user_id' | 'channel' | 'address' | 'payload' | 'status' | 'job_id'>;

/** Makes this node a sender of deliveries, and counts every try by channel and outcome. */
export async function startDeliveries(deps: Deps): Promise<void> {
  const tries = deps.metrics.counter(
    'lilium_notification_deliveries_total',
    'Delivery tries by channel and outcome: sent; failed (every try that failed); retried (rescheduled after one); dead (given up).',
    ['channel', 'outcome'],
  );
  await deps.jobs.workBatch<DeliveryJob>(DELIVERY_QUEUE, (jobs) => deliver(deps, tries, jobs), { policy: POLICY, concurrency: CONCURRENCY, batchSize: BATCH });
  // The last word on a delivery keeps trying for hours (a database that is down), so none stays PENDING unseen.
  await deps.jobs.work<DeliveryJob>(DELIVERY_DEAD_QUEUE, (data) => abandon(deps, tries, data), { policy: { retryLimit: 10, retryDelayS: 30 } });
}

/** One send; a failure is answered, not thrown. */
async function send(deps: Deps, d: Loaded): Promise<DeliveryError | null> {
  const message = { ...(d.payload as Omit<OutboundMessage, 'id'>), id: d.id };
  try {
    await deps.channels[d.channel as NotificationChannel].send({ userId: d.user_id, address: d.address }, message);
    return null;
  } catch (err) {
    // Anything but a provider's coded answer (a bug, a dropped socket) is worth another try.
    return err instanceof DeliveryError ? err : new DeliveryError(err instanceof Error ? err.message : String(err), true);
  }
}

/**
 * One try of each delivery of a batch: read them, send them with no transaction open and no row locked, then
 * record what happened: those that went out in one conditional update, each failure in a short transaction. A node
 * that dies between the sends and the record leaves the jobs to expire and run again, so a message may go out twice
 * (at least once), always with the same id.
 */
async function deliver(deps: Deps, tries: CounterHandle, jobs: Array<{ data: DeliveryJob; job: JobInfo }>): Promise<void> {
  const rows = await deps.db.query<Loaded>(
    sql`SELECT id, user_id, channel, address, payload, status, job_id FROM notification_deliveries WHERE id = ANY(${jobs.flatMap((j) => deliveryIdsOf(j.data))}::uuid[])`,
  );
  const byId = new Map(rows.map((d) => [d.id, d]));
  // Sent, dead, or rescheduled under another job since this one was queued: nothing left for it to do.
  const due = jobs.flatMap(({ data, job }) =>
    deliveryIdsOf(data).flatMap((id) => {
      const d = byId.get(id);
      return d && d.status === 'PENDING' && d.job_id === job.id ? [{ d, jobId: job.id }] : [];
    }),
  );
  const tried = await Promise.all(due.map(async (t) => ({ ...t, failure: await send(deps, t.d) })));
  const sent = tried.filter((t) => !t.failure);
  if (sent.length) {
    // A secret message (a reset link) keeps no body or link once it has gone out.
    const recorded = await deps.db.query<Pick<NotificationDeliveryRow, 'channel'>>(
      sql`
      UPDATE notification_deliveries d SET status = 'SENT', attempts = d.attempts + 1, sent_at = now(), next_attempt_at = NULL, last_error = NULL,
             payload = CASE WHEN d.secret THEN d.payload || '{"body": "", "url": null}'::jsonb ELSE d.payload END
        FROM unnest(${sent.map((t) => t.d.id)}::uuid[], ${sent.map((t) => t.jobId)}::uuid[]) AS s(id, job_id)
       WHERE d.id = s.id AND d.status = 'PENDING' AND d.job_id = s.job_id
      RETURNING d.channel`.prepared(),
    );
    for (const r of recorded) tries.inc({ channel: r.channel as NotificationChannel, outcome: 'sent' });
  }
  for (const { d, jobId, failure } of tried) {
    if (!failure) continue;
    const channel = d.channel as NotificationChannel;
    tries.inc({ channel, outcome: 'failed' });
    const outcome = await recordFailure(deps, d.id, jobId, failure);
    if (!outcome) continue;
    tries.inc({ channel, outcome });
    const log = outcome === 'dead' ? deps.log.warn.bind(deps.log) : deps.log.info.bind(deps.log);
    log(
      { deliveryId: d.id, channel, retryable: failure.retryable, cause: failure.message },
      `delivery not accepted; ${outcome === 'dead' ? 'given up' : 'will retry'}`,
    );
  }
}

/** What a failed try came to, in one short transaction holding the row only while it writes; null when another job owns it now. */
async function recordFailure(deps: Deps, id: string, jobId: string, failure: DeliveryError): Promise<Exclude<Outcome, 'sent'> | null> {
  const { maxAttempts, ...backoff } = deps.config.deliveries;
  return jobCtx(deps, jobId).tx(async (ctx) => {
    const [d] = await ctx.query<Pick<NotificationDeliveryRow, 'status' | 'attempts' | 'job_id'>>(
      sql`SELECT status, attempts, job_id FROM notification_deliveries WHERE id = ${id} FOR UPDATE`,
    );
    if (!d || d.status !== 'PENDING' || d.job_id !== jobId) return null;
    const attempts = d.attempts + 1;
    const lastError = failure.message.slice(0, 500);
    if (!failure.retryable || attempts >= maxAttempts) {
      await ctx.query(sql`
        UPDATE notification_deliveries SET status = 'DEAD', attempts = ${attempts}, last_error = ${lastError}, next_attempt_at = NULL WHERE id = ${id}`);
      return 'dead';
    }
    const at = new Date(Date.now() + retryDelayMs(attempts, backoff, failure.retryAfterMs));
    const next = await queueTry(ctx, id, attempts, at);
    await ctx.query(sql`
      UPDATE notification_deliveries SET attempts = ${attempts}, last_error = ${lastError}, next_attempt_at = ${at}, job_id = ${next} WHERE id = ${id}`);
    return 'retried';
  });
}

/**
 * A delivery job whose queue tries ran out (its nodes kept dying, or the database kept failing) lands here: the
 * delivery is DEAD, visible to admins, unless it has moved on since (sent, or rescheduled with more tries).
 */
async function abandon(deps: Deps, tries: CounterHandle, job: DeliveryJob): Promise<void> {
  const dead = await deps.db.query<Pick<NotificationDeliveryRow, 'channel'>>(sql`
    UPDATE notification_deliveries SET status = 'DEAD', last_error = 'the delivery job kept failing before it could record a try', next_attempt_at = NULL
     WHERE id = ANY(${deliveryIdsOf(job)}::uuid[]) AND status = 'PENDING' AND attempts = ${job.attempt} RETURNING channel`);
  for (const d of dead) tries.inc({ channel: d.channel, outcome: 'dead' });
}
