import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Devices1764200200000 implements MigrationInterface {
  name = 'Devices1764200200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      -- Phones of shop owners and drivers that receive mobile push (FCM). A token names one phone's app
      -- install, so it belongs to whoever registered it last.
      CREATE TABLE devices (
        token text PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        platform text NOT NULL CHECK (platform IN ('ios', 'android')),
        app text NOT NULL CHECK (app IN ('shop', 'driver')),
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX devices_user_idx ON devices (user_id, last_seen_at DESC);

      -- Browsers of vendor staff and admins that receive Web Push: the PushSubscription's endpoint and keys.
      CREATE TABLE push_subscriptions (
        endpoint text PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        p256dh text NOT NULL,
        auth text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX push_subscriptions_user_idx ON push_subscriptions (user_id, created_at DESC);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE push_subscriptions; DROP TABLE devices');
  }
}
