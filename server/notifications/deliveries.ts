import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { sql, type Sql } from '../../db/sql.js';
import { gather } from '../../db/tx.js';
import type { NotificationDeliveryRow } from '../../db/tables.js';
import type { MessageDelivery, MessageDeliveryStatus, NotificationChannel, NotificationKind, ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { Phone } from '../../protocol/users.js';
import { zoneScope } from '../auth/zone-scope.js';
import { audit } from '../audit.js';
import { AppError, notFound } from '../errors.js';
import { afterCursor, page } from '../pagination.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import { assertTransition, type Transitions } from '../transitions.js';
import type { OutboundMessage } from './channels/channel.js';

/** The queue whose jobs send deliveries; its dead letters land in DELIVERY_DEAD_QUEUE. */
export const DELIVERY_QUEUE = 'delivery';
export const DELIVERY_DEAD_QUEUE = 'delivery-dead';

/**
 * What a delivery job carries: the deliveries it tries, and how many tries they had when it was queued. The
 * deliveries a transaction writes together share one job (`deliveryIds`); a retry, or a single delivery, has its own.
 */
export type DeliveryJob = { attempt: number } & ({ deliveryId: string } | { deliveryIds: string[] });

/** The deliveries a job tries. */
export const deliveryIdsOf = (job: DeliveryJob): string[] => ('deliveryIds' in job ? job.deliveryIds : [job.deliveryId]);

/**
 * A try that fails stays PENDING and is rescheduled (not a change of status); a provider's refusal, or the last
 * try failing, makes it DEAD; an admin sends a DEAD one again.
 */
export const DELIVERY_TRANSITIONS = {
  PENDING: ['SENT', 'DEAD'],
  SENT: [],
  DEAD: ['PENDING'],
} as const satisfies Transitions<MessageDeliveryStatus>;

export interface DeliveryInput {
  notificationId: string | null;
  userId: string | null;
  /** 'push' | 'email' | 'sms' */
  channel: NotificationChannel;
  /** Email address / E.164 phone; null for push. */
  address: string | null;
  /** Already rendered; its id, if it has one, is replaced by the delivery's. */
  message: Omit<OutboundMessage, 'id'> & { id?: string };
  /** Payload scrubbed of its body and link once sent (reset links). */
  secret?: boolean;
}

const EmailAddress = z.email();

/** An address the channel can use, or BAD_REQUEST naming the field: checked before anything is queued. */
function checkTarget(d: DeliveryInput): void {
  const bad = (field: string, message: string) => new AppError('BAD_REQUEST', message, { field });
  if (d.channel === 'push') {
    if (!d.userId) throw bad('userId', 'a push delivery goes to a user');
    if (d.address !== null) throw bad('address', 'a push delivery has no address: it goes to the user’s devices');
  } else if (d.channel === 'sms') {
    if (!d.address || !Phone.safeParse(d.address).success) throw bad('address', 'an SMS delivery needs an E.164 phone number like +9647701234567');
  } else if (!d.address || !EmailAddress.safeParse(d.address).success) {
    throw bad('address', 'an email delivery needs an email address');
  }
}

/** Queues the job of a delivery's next try in the caller's transaction; answers the job id, which the row then names. */
export async function queueTry(ctx: TxCtx, deliveryId: string, attempt: number, startAfter?: Date): Promise<string> {
  const jobId = await ctx.deps.jobs.send(ctx, DELIVERY_QUEUE, { deliveryId, attempt } satisfies DeliveryJob, startAfter ? { startAfter } : {});
  // Only a queue that does not exist answers no job; a delivery without one would wait forever.
  if (!jobId) throw new Error(`the ${DELIVERY_QUEUE} job queue refused a job`);
  return jobId;
}

/** Writes the delivery row and its job in the caller's transaction; answers the delivery id. */
export async function enqueueDelivery(ctx: TxCtx, d: DeliveryInput): Promise<string> {
  const rows = await deliveryRows(ctx, [d]);
  await ctx.query(insertDeliveries(rows));
  return rows[0]!.id;
}

/** What a transaction's held delivery rows are gathered under (db/tx.ts gather). */
const HELD_DELIVERIES = {};

/**
 * Checks the deliveries and queues one job for them all in the caller's transaction; their rows are held with every
 * other delivery row of the transaction, one INSERT just before COMMIT (Tx.hold), however many calls made them. The
 * rows are the durable truth of each delivery; the job only says when to try.
 */
export async function queueDeliveries(ctx: TxCtx, ds: DeliveryInput[]): Promise<void> {
  if (ds.length === 0) return;
  gather(ctx, HELD_DELIVERIES, await deliveryRows(ctx, ds), (all) => ({ write: insertDeliveries(all) }));
}

type DeliveryRowInput = DeliveryInput & { id: string; jobId: string };

/** The rows of these deliveries, checked, with ids and one job queued for them all. */
async function deliveryRows(ctx: TxCtx, ds: DeliveryInput[]): Promise<DeliveryRowInput[]> {
  ds.forEach(checkTarget);
  const ids = ds.map(() => randomUUID());
  const data: DeliveryJob = ids.length === 1 ? { deliveryId: ids[0]!, attempt: 0 } : { deliveryIds: ids, attempt: 0 };
  const [jobId] = await ctx.deps.jobs.sendMany(ctx, [{ queue: DELIVERY_QUEUE, data }]);
  return ds.map((d, i) => ({ ...d, id: ids[i]!, jobId: jobId! }));
}

function insertDeliveries(ds: DeliveryRowInput[]): Sql {
  const payloads = ds.map(({ message: { id: _replaced, ...message } }) => JSON.stringify(message));
  return sql`
    INSERT INTO notification_deliveries (id, notification_id, user_id, channel, address, payload, secret, job_id)
    SELECT d.id, d.notification_id, d.user_id, d.channel, d.address, d.payload::jsonb, d.secret, d.job_id
      FROM unnest(${ds.map((d) => d.id)}::uuid[], ${ds.map((d) => d.notificationId)}::uuid[], ${ds.map((d) => d.userId)}::uuid[],
                  ${ds.map((d) => d.channel)}::text[], ${ds.map((d) => d.address)}::text[], ${payloads}::text[],
                  ${ds.map((d) => d.secret ?? false)}::boolean[], ${ds.map((d) => d.jobId)}::uuid[])
           AS d(id, notification_id, user_id, channel, address, payload, secret, job_id)`;
}

type DeliveryView = Pick<
  NotificationDeliveryRow,
  'id' | 'notification_id' | 'user_id' | 'channel' | 'address' | 'status' | 'attempts' | 'last_error' | 'created_at' | 'next_attempt_at' | 'sent_at'
> & { kind: NotificationKind; title: string; created_key: string };

const SELECT = sql`SELECT d.id, d.notification_id, d.user_id, d.channel, d.address, d.status, d.attempts, d.last_error, d.created_at, d.next_attempt_at,
                          d.sent_at, d.payload->>'kind' AS kind, d.payload->>'title' AS title, d.created_at::text AS created_key
                     FROM notification_deliveries d`;

const iso = (t: Date | null) => (t ? new Date(t).toISOString() : null);

function toDelivery(d: DeliveryView): MessageDelivery {
  return {
    id: d.id,
    notificationId: d.notification_id,
    userId: d.user_id,
    channel: d.channel as NotificationChannel,
    address: d.address,
    kind: d.kind,
    title: d.title,
    status: d.status as MessageDeliveryStatus,
    attempts: d.attempts,
    lastError: d.last_error,
    createdAt: new Date(d.created_at).toISOString(),
    nextAttemptAt: d.status === 'PENDING' ? iso(d.next_attempt_at) : null,
    sentAt: iso(d.sent_at),
  };
}

/** A zone-limited admin reaches the deliveries to accounts that live in its zones; one to no account is outside them. */
const inReach = (ctx: Ctx) => zoneScope(actorOf(ctx), 'user', sql`d.user_id`);

export async function listDeliveries(ctx: Ctx, input: ParsedInputOf<'notifications:deliveries'>): Promise<ResultOf<'notifications:deliveries'>> {
  const where = sql.and([
    inReach(ctx),
    ...(input.status ? [sql`d.status = ${input.status}`] : []),
    ...(input.channel ? [sql`d.channel = ${input.channel}`] : []),
    ...(input.userId ? [sql`d.user_id = ${input.userId}`] : []),
    afterCursor(input.cursor, [
      [sql`d.created_at`, 'timestamptz'],
      [sql`d.id`, 'uuid'],
    ]),
  ]);
  const rows = await ctx.query<DeliveryView>(sql`${SELECT} WHERE ${where} ORDER BY d.created_at DESC, d.id DESC LIMIT ${input.limit + 1}`);
  return page(rows, input.limit, toDelivery, (d) => [d.created_key, d.id]);
}

/** A DEAD delivery goes back to PENDING with a new job and a fresh set of tries; its id, and so its message id, stay. */
export async function retryDelivery(ctx: Ctx, { id }: ParsedInputOf<'notifications:deliveries:retry'>): Promise<ResultOf<'notifications:deliveries:retry'>> {
  return ctx.tx(async (ctx) => {
    const [d] = await ctx.query<Pick<NotificationDeliveryRow, 'status'>>(
      sql`SELECT d.status FROM notification_deliveries d WHERE d.id = ${id} AND ${inReach(ctx)} FOR UPDATE`,
    );
    if (!d) throw notFound('delivery');
    assertTransition(DELIVERY_TRANSITIONS, 'delivery', d.status as MessageDeliveryStatus, 'PENDING');
    const jobId = await queueTry(ctx, id, 0);
    await ctx.query(sql`UPDATE notification_deliveries SET status = 'PENDING', attempts = 0, next_attempt_at = now(), job_id = ${jobId} WHERE id = ${id}`);
    await audit(ctx, 'DELIVERY_RETRY', { type: 'delivery', id });
    const [row] = (await ctx.query<DeliveryView>(sql`${SELECT} WHERE d.id = ${id}`)) as [DeliveryView];
    return toDelivery(row);
  });
}
