import type { Tx } from '../../db/tx.js';
import type { Deps } from '../deps.js';

export interface OutgoingMessage {
  channel: 'email' | 'sms';
  recipient: string;
  template: 'password-reset';
  payload: Record<string, unknown>;
}

/** How messages leave; the development transport writes them to the log. */
export type Transport = (message: OutgoingMessage & { id: number }) => Promise<void>;

export const logTransport =
  (deps: Pick<Deps, 'log'>): Transport =>
  async (message) => {
    deps.log.info({ notification: message }, `notification ${message.template} to ${message.recipient} by ${message.channel}`);
  };

/** Writes a message in the caller's transaction; it is delivered after commit, and retried until it is. */
export async function enqueue(tx: Tx, message: OutgoingMessage, deliver: () => void): Promise<void> {
  await tx.query('INSERT INTO notification_outbox (channel, recipient, template, payload) VALUES ($1, $2, $3, $4)', [
    message.channel,
    message.recipient,
    message.template,
    JSON.stringify(message.payload),
  ]);
  tx.afterCommit(deliver);
}

/**
 * Sends what is pending. Rows are claimed with SKIP LOCKED so several nodes never send one twice;
 * secrets are dropped from the payload once sent.
 */
export async function deliverPending(deps: Pick<Deps, 'db' | 'log'>, transport: Transport): Promise<number> {
  return deps.db.tx(async (tx) => {
    const rows = await tx.query<OutgoingMessage & { id: number }>(
      `SELECT id, channel, recipient, template, payload FROM notification_outbox
        WHERE sent_at IS NULL AND attempts < 10 ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED`,
    );
    for (const row of rows) {
      try {
        await transport(row);
        await tx.query(`UPDATE notification_outbox SET sent_at = now(), attempts = attempts + 1, payload = payload - 'token' WHERE id = $1`, [row.id]);
      } catch (err) {
        deps.log.warn({ err, id: row.id }, 'notification not delivered; will retry');
        await tx.query('UPDATE notification_outbox SET attempts = attempts + 1 WHERE id = $1', [row.id]);
      }
    }
    return rows.length;
  });
}
