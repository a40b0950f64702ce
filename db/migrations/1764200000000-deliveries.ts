import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Deliveries1764200000000 implements MigrationInterface {
  name = 'Deliveries1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      -- One message to one person on one channel, written in the transaction of the event that causes it and sent
      -- by a job of the 'delivery' queue (pg-boss, schema pgboss). The id is the message id on every try.
      CREATE TABLE notification_deliveries (
        id uuid PRIMARY KEY,
        -- The stored notification it carries, when there is one (the notification centre's table comes later).
        notification_id uuid,
        user_id uuid REFERENCES users(id),
        channel text NOT NULL CHECK (channel IN ('push', 'email', 'sms')),
        -- An email address or an E.164 phone; none for push, which goes to the user's devices.
        address text,
        -- The rendered message (kind, locale, title, body, url, data) without its id.
        payload jsonb NOT NULL,
        -- Once sent, a secret message (a reset link) keeps no body or link.
        secret boolean NOT NULL DEFAULT false,
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'DEAD')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        -- The one job that may send it now: a try of any other job finds it and does nothing.
        job_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        next_attempt_at timestamptz DEFAULT now(),
        sent_at timestamptz
      );
      CREATE INDEX notification_deliveries_list_idx ON notification_deliveries (created_at DESC, id DESC);
      CREATE INDEX notification_deliveries_status_idx ON notification_deliveries (status, created_at DESC, id DESC);
      CREATE INDEX notification_deliveries_user_idx ON notification_deliveries (user_id);

      -- Replaced by the deliveries above. Rows not sent yet are reset tokens (valid for minutes), not worth carrying over.
      DROP TABLE notification_outbox;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE notification_deliveries;
      CREATE TABLE notification_outbox (
        id bigserial PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now(),
        channel text NOT NULL CHECK (channel IN ('email', 'sms')),
        recipient text NOT NULL,
        template text NOT NULL,
        payload jsonb NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        sent_at timestamptz
      );
      CREATE INDEX notification_outbox_pending_idx ON notification_outbox (id) WHERE sent_at IS NULL;
    `);
  }
}
