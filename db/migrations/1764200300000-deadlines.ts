import type { MigrationInterface, QueryRunner } from 'typeorm';

const STATUSES = `'PENDING', 'ACCEPTED', 'PREPARING', 'ON_THE_WAY', 'DELIVERED', 'FAILED', 'REJECTED', 'CANCELLED'`;

export class Deadlines1764200300000 implements MigrationInterface {
  name = 'Deadlines1764200300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      -- A vendor's own acceptance window; NULL takes the deployment's default.
      ALTER TABLE vendors ADD COLUMN acceptance_window_s int CHECK (acceptance_window_s > 0);
      -- Deadlines are fixed when the order is placed, so a later change of the window moves no order's clock.
      ALTER TABLE orders ADD COLUMN accept_by timestamptz;
      ALTER TABLE orders ADD COLUMN expire_at timestamptz;
      ALTER TABLE orders ADD COLUMN escalated_at timestamptz;
      ALTER TABLE orders DROP CONSTRAINT orders_status_check;
      ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN (${STATUSES}, 'EXPIRED'));
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE orders SET status = 'CANCELLED' WHERE status = 'EXPIRED';
      ALTER TABLE orders DROP CONSTRAINT orders_status_check;
      ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN (${STATUSES}));
      ALTER TABLE orders DROP COLUMN escalated_at;
      ALTER TABLE orders DROP COLUMN expire_at;
      ALTER TABLE orders DROP COLUMN accept_by;
      ALTER TABLE vendors DROP COLUMN acceptance_window_s;
    `);
  }
}
