import { sql } from '../../db/sql.js';
import type { NotificationOutboxRow } from '../../db/tables.js';
import type { Deps } from '../deps.js';
import type { TxCtx } from '../rpc/context.js';

/**
 * Messages to people (email, SMS), queued in the caller's transaction and sent after commit. Not to be
 * confused with the outbox of pushes to sockets (server/outbox/): the table keeps its historical name
 * `notification_outbox`, which is not worth a migration.
 */
export interface OutgoingMessage {
  channel: 'email' | 'sms';
  recipient: string;
  template: 'password-reset';
  payload: Record<string, unknown>;
}

type Queued = OutgoingMessage & Pick<NotificationOutboxRow, 'id'>;

/** How messages leave; the development transport writes them to the log. */
export type Transport = (message: Queued) => Promise<void>;

export const logTransport =
  (deps: Pick<Deps, 'log'>): Transport =>
  async (message) => {
    deps.log.info({ notification: message }, `notification ${message.template} to ${message.recipient} by ${message.channel}`);
  };

/** Writes a message in the caller's transaction; it is delivered after commit, and retried until it is. */
export async function enqueueNotification(ctx: TxCtx, message: OutgoingMessage): Promise<void> {
  await ctx.query(sql`
    INSERT INTO notification_outbox (channel, recipient, template, payload)
    VALUES (${message.channel}, ${message.recipient}, ${message.template}, ${JSON.stringify(message.payload)})`);
  ctx.afterCommit(ctx.deps.deliverNotifications);
}

/**
 * Sends what is queued. Rows are claimed with SKIP LOCKED so several nodes never send one twice;
 * secrets are dropped from the payload once sent.
 */
export async function deliverQueued(deps: Pick<Deps, 'db' | 'log'>, transport: Transport): Promise<number> {
  return deps.db.tx(async (tx) => {
    const rows = await tx.query<Queued>(sql`
      SELECT id, channel, recipient, template, payload FROM notification_outbox
       WHERE sent_at IS NULL AND attempts < 10 ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED`);
    for (const row of rows) {
      try {
        await transport(row);
        await tx.query(sql`UPDATE notification_outbox SET sent_at = now(), attempts = attempts + 1, payload = payload - 'token' WHERE id = ${row.id}`);
      } catch (err) {
        deps.log.warn({ err, id: row.id }, 'notification not delivered; will retry');
        await tx.query(sql`UPDATE notification_outbox SET attempts = attempts + 1 WHERE id = ${row.id}`);
      }
    }
    return rows.length;
  });
}
