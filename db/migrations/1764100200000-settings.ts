import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Settings1764100200000 implements MigrationInterface {
  name = 'Settings1764100200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      -- Values a deployment generates once and every node shares (the development JWT secret).
      CREATE TABLE settings (
        key text PRIMARY KEY,
        value text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE settings');
  }
}
