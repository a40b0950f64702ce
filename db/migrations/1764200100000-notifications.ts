import type { MigrationInterface, QueryRunner } from 'typeorm';

const GROUPS = `'orders', 'delivery', 'money', 'stock', 'account'`;

/**
 * The notification centre: what each person was told, in their language, read or not; which channels
 * they want per group of kinds; the language they read (unset: the deployment's DEFAULT_LOCALE); and
 * on each product whether its fall to the low-stock threshold has been told, so staff hear once per
 * crossing rather than on every sale.
 */
export class Notifications1764200100000 implements MigrationInterface {
  name = 'Notifications1764200100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE users ADD COLUMN locale text CHECK (locale IN ('ar', 'en'));

      CREATE TABLE notifications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id),
        kind text NOT NULL,
        "group" text NOT NULL CHECK ("group" IN (${GROUPS})),
        title text NOT NULL,
        body text NOT NULL,
        link_type text CHECK (link_type IN ('order', 'product', 'settlement')),
        link_id uuid,
        read_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((link_type IS NULL) = (link_id IS NULL))
      );
      -- A user's pages, newest first: all, unread only (also what the unread count reads), or of one kind.
      CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC, id DESC);
      CREATE INDEX notifications_unread_idx ON notifications (user_id, created_at DESC, id DESC) WHERE read_at IS NULL;
      CREATE INDEX notifications_kind_idx ON notifications (user_id, kind, created_at DESC, id DESC);

      -- Only what a user chose: a missing row means their role's default. Account messages cannot be turned off.
      CREATE TABLE notification_preferences (
        user_id uuid NOT NULL REFERENCES users(id),
        "group" text NOT NULL CHECK ("group" IN (${GROUPS}) AND "group" <> 'account'),
        channel text NOT NULL CHECK (channel IN ('push', 'email', 'sms')),
        enabled boolean NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, "group", channel)
      );

      ALTER TABLE products ADD COLUMN low_stock_alerted boolean NOT NULL DEFAULT false;
      COMMENT ON COLUMN products.low_stock_alerted IS 'staff were told the stock is at or below low_stock_threshold; cleared when it rises above';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE products DROP COLUMN low_stock_alerted;
      DROP TABLE notification_preferences;
      DROP TABLE notifications;
      ALTER TABLE users DROP COLUMN locale;
    `);
  }
}
