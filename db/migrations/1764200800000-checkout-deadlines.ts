import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A checkout's row carries the first deadline of its orders still to run, and every node sweeps the due ones
 * (server/orders/deadlines.ts) instead of a pg-boss job per checkout. The orders still PENDING get their checkout's
 * deadline from their own columns; the jobs queued for them are dropped (their orders are swept now).
 */
export class CheckoutDeadlines1764200800000 implements MigrationInterface {
  name = 'CheckoutDeadlines1764200800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE checkouts ADD COLUMN deadline_at timestamptz;
      UPDATE checkouts c SET deadline_at = d.at
        FROM (SELECT checkout_id, min(CASE WHEN escalated_at IS NULL THEN accept_by ELSE expire_at END) AS at
                FROM orders WHERE status = 'PENDING' GROUP BY checkout_id) d
       WHERE d.checkout_id = c.id AND d.at IS NOT NULL;
      CREATE INDEX checkouts_deadline_idx ON checkouts (deadline_at) WHERE deadline_at IS NOT NULL;
      DO $$ BEGIN
        IF to_regclass('pgboss.job') IS NOT NULL THEN DELETE FROM pgboss.job WHERE name = 'order-deadline'; END IF;
      END $$;
    `);
  }

  /** The schema only: an older version queues deadline jobs for the orders it places, not for those placed meanwhile. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX checkouts_deadline_idx;
      ALTER TABLE checkouts DROP COLUMN deadline_at;
    `);
  }
}
