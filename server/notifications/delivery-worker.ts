import { sql } from '../../db/sql.js';
import type { NotificationDeliveryRow } from '../../db/tables.js';
import type { NotificationChannel } from '../../protocol/index.js';
import type { Deps } from '../deps.js';
import { jobCtx } from '../jobs/job-context.js';
import type { JobInfo } from '../jobs/jobs.js';
import type { CounterHandle } from '../metrics.js';
import { DeliveryError, type OutboundMessage } from './channels/channel.js';
import { DELIVERY_DEAD_QUEUE, DELIVERY_QUEUE, queueTry, type DeliveryJob } from './deliveries.js';
import { retryDelayMs } from './retry.js';

/** Deliveries sent at once per node: sending waits on the network, not on this process. */
const CONCURRENCY = 4;

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
  await deps.jobs.work<DeliveryJob>(DELIVERY_QUEUE, (data, job) => deliver(deps, tries, data, job), { policy: POLICY, concurrency: CONCURRENCY });
  // The last word on a delivery keeps trying for hours (a database that is down), so none stays PENDING unseen.
  await deps.jobs.work<DeliveryJob>(DELIVERY_DEAD_QUEUE, (data) => abandon(deps, tries, data), { policy: { retryLimit: 10, retryDelayS: 30 } });
}

/**
 * One try: read the delivery, send it with no transaction open and no row locked, then record what happened in a
 * short transaction. A node that dies between the send and the record leaves the job to expire and run again,
 * so a message may go out twice (at least once), always with the same id.
 */
async function deliver(deps: Deps, tries: CounterHandle, { deliveryId }: DeliveryJob, job: JobInfo): Promise<void> {
  const [d] = await deps.db.query<Loaded>(
    sql`SELECT id, user_id, channel, address, payload, status, job_id FROM notification_deliveries WHERE id = ${deliveryId}`,
  );
  // Sent, dead, or rescheduled under another job since this one was queued: nothing left for it to do.
  if (!d || d.status !== 'PENDING' || d.job_id !== job.id) return;
  const channel = d.channel as NotificationChannel;
  const message = { ...(d.payload as Omit<OutboundMessage, 'id'>), id: d.id };
  let failure: DeliveryError | null = null;
  try {
    await deps.channels[channel].send({ userId: d.user_id, address: d.address }, message);
  } catch (err) {
    // Anything but a provider's coded answer (a bug, a dropped socket) is worth another try.
    failure = err instanceof DeliveryError ? err : new DeliveryError(err instanceof Error ? err.message : String(err), true);
  }
  if (failure) tries.inc({ channel, outcome: 'failed' });
  const outcome = await record(deps, d.id, job.id, failure);
  if (outcome) tries.inc({ channel, outcome });
  if (failure && outcome) {
    const log = outcome === 'dead' ? deps.log.warn.bind(deps.log) : deps.log.info.bind(deps.log);
    log(
      { deliveryId: d.id, channel, retryable: failure.retryable, cause: failure.message },
      `delivery not accepted; ${outcome === 'dead' ? 'given up' : 'will retry'}`,
    );
  }
}

/**
 * What the try came to; null when another job owns the delivery now. A send that went out is one conditional
 * update (the common case, a statement rather than a transaction); a failure is decided in one short transaction
 * holding the row only while it writes.
 */
async function record(deps: Deps, id: string, jobId: string, failure: DeliveryError | null): Promise<Outcome | null> {
  if (!failure) {
    // A secret message (a reset link) keeps no body or link once it has gone out.
    const sent = await deps.db.query(sql`
      UPDATE notification_deliveries SET status = 'SENT', attempts = attempts + 1, sent_at = now(), next_attempt_at = NULL, last_error = NULL,
             payload = CASE WHEN secret THEN payload || '{"body": "", "url": null}'::jsonb ELSE payload END
       WHERE id = ${id} AND status = 'PENDING' AND job_id = ${jobId} RETURNING 1`);
    return sent.length ? 'sent' : null;
  }
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
async function abandon(deps: Deps, tries: CounterHandle, { deliveryId, attempt }: DeliveryJob): Promise<void> {
  const [dead] = await deps.db.query<Pick<NotificationDeliveryRow, 'channel'>>(sql`
    UPDATE notification_deliveries SET status = 'DEAD', last_error = 'the delivery job kept failing before it could record a try', next_attempt_at = NULL
     WHERE id = ${deliveryId} AND status = 'PENDING' AND attempts = ${attempt} RETURNING channel`);
  if (dead) tries.inc({ channel: dead.channel, outcome: 'dead' });
}
