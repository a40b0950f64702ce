import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `lilium_refuse(sqlstate, message)` raises an error with that SQLSTATE: a statement that checks something (that a
 * session is live) fails instead of answering no row, so the statements sent behind it in the same round trip are
 * skipped by the server rather than run and rolled back. Codes of class LL are Lilium's own (server/db-errors.ts).
 */
export class Refusals1764200700000 implements MigrationInterface {
  name = 'Refusals1764200700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION lilium_refuse(code text, message text) RETURNS int LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
      END $$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION lilium_refuse(text, text);`);
  }
}
