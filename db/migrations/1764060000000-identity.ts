import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Identity1764060000000 implements MigrationInterface {
  name = 'Identity1764060000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE addresses (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        shop_id uuid NOT NULL REFERENCES shops(id),
        label text NOT NULL,
        line text NOT NULL,
        zone_id uuid NOT NULL REFERENCES zones(id),
        notes text,
        lat double precision,
        lng double precision,
        is_default boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      );
      CREATE INDEX addresses_shop_idx ON addresses (shop_id) WHERE deleted_at IS NULL;
      CREATE UNIQUE INDEX addresses_one_default ON addresses (shop_id) WHERE is_default AND deleted_at IS NULL;

      -- Append-only: who did what to whom, from where.
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor_id uuid,
        action text NOT NULL,
        target_type text,
        target_id text,
        address text,
        details jsonb NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, at);
      CREATE INDEX audit_log_action_idx ON audit_log (action, at);

      -- Failed logins by the login as typed (so an unknown account locks like a real one) and by address.
      CREATE TABLE login_failures (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        login_key text NOT NULL,
        address text
      );
      CREATE INDEX login_failures_login_idx ON login_failures (login_key, at);
      CREATE INDEX login_failures_address_idx ON login_failures (address, at);

      CREATE TABLE password_resets (
        token_hash text PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      );
      CREATE INDEX password_resets_user_idx ON password_resets (user_id);

      -- Messages for the outside world (email, SMS), written with the change that causes them.
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

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE notification_outbox;
      DROP TABLE password_resets;
      DROP TABLE login_failures;
      DROP TABLE audit_log;
      DROP TABLE addresses;
    `);
  }
}
