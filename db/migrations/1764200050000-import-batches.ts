import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ImportBatches1764200050000 implements MigrationInterface {
  name = 'ImportBatches1764200050000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      -- Each batch an import has written, in the batch's own transaction: a try after its node died goes on after the
      -- last one, and an import that fails later undoes them all, whichever node wrote them. Removed once it ends.
      CREATE TABLE import_batches (
        import_id uuid NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
        batch integer NOT NULL,
        -- The file line of the batch's last row.
        last_line integer NOT NULL,
        -- What it changed: products created, and how updated ones were before.
        written jsonb NOT NULL,
        PRIMARY KEY (import_id, batch)
      );
      -- Set when a try starts undoing a failed import, so a try that stops halfway is finished by the next one.
      ALTER TABLE import_jobs ADD COLUMN failure text;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE import_jobs DROP COLUMN failure');
    await q.query('DROP TABLE import_batches');
  }
}
