import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each person's count of unread notifications, kept as it changes instead of counted on every read: the count went
 * to every `notification:new` and every badge, and counting visited each unread row, so a busy vendor's staff made
 * every checkout slower as their unread notifications grew. A missing row is zero.
 */
export class UnreadCounts1764200600000 implements MigrationInterface {
  name = 'UnreadCounts1764200600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notification_unread (
        user_id uuid PRIMARY KEY REFERENCES users(id),
        unread int NOT NULL CHECK (unread >= 0)
      );
      INSERT INTO notification_unread (user_id, unread)
        SELECT user_id, count(*) FROM notifications WHERE read_at IS NULL GROUP BY user_id;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE notification_unread;`);
  }
}
