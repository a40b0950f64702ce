import type { NotificationChannel } from '../../protocol/notifications.js';
import { sql } from '../../db/sql.js';
import type { TxCtx } from '../rpc/context.js';
import type { OutboundMessage } from './channels/channel.js';

/**
 * PLACEHOLDER of issue 13's delivery pipeline (DESIGN-13.md, "jobs → centre"): the jobs branch owns this file and
 * its real version replaces this one at merge. Until then email and SMS go through the queue Lilium already has
 * (`notification_outbox`, sent after commit by its log transport), so the reset and set-password links still
 * reach the log; there is no push transport before the pipeline, so a push is only the in-app notification.
 */

export interface DeliveryInput {
  notificationId: string | null;
  userId: string | null;
  channel: NotificationChannel;
  /** Email address / E.164 phone; null for push. */
  address: string | null;
  /** Already rendered (without `id`: the delivery's). */
  message: Omit<OutboundMessage, 'id'>;
  /** Scrubbed once sent (reset and set-password links). */
  secret?: boolean;
}

/** Writes the delivery in the caller's transaction; answers its id. */
export async function enqueueDelivery(ctx: TxCtx, d: DeliveryInput): Promise<string> {
  if (d.channel === 'push' || !d.address) return `push:${d.notificationId ?? ''}`;
  // The old queue drops `token` from a payload once sent: a secret message travels under that key.
  const payload = d.secret ? { token: d.message } : { message: d.message };
  const [row] = await ctx.query<{ id: string }>(sql`
    INSERT INTO notification_outbox (channel, recipient, template, payload)
    VALUES (${d.channel}, ${d.address}, ${d.message.kind}, ${JSON.stringify(payload)}) RETURNING id::text`);
  ctx.afterCommit(ctx.deps.deliverNotifications);
  return row!.id;
}
