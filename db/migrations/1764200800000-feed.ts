import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Numbered pushes move from `outbox` to `feed`. A transaction writes its pushes to `outbox`, which keeps only rows not
 * yet numbered; the sequencer takes them out and writes them to `feed` with their seq. Numbering them in place was an
 * UPDATE of an indexed column: every row written twice, with every index entry, and the numbered rows' entries in the
 * partial index of unnumbered ones until a vacuum.
 */
export class Feed1764200800000 implements MigrationInterface {
  name = 'Feed1764200800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE feed (
        seq bigint PRIMARY KEY,
        rooms text[] NOT NULL,
        event text NOT NULL,
        data jsonb NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
      );
      INSERT INTO feed (seq, rooms, event, data, at) SELECT seq, rooms, event, data, at FROM outbox WHERE seq IS NOT NULL;
      CREATE INDEX feed_rooms_idx ON feed USING gin (rooms);
      CREATE INDEX feed_at_idx ON feed (at);
      DELETE FROM outbox WHERE seq IS NOT NULL;
      DROP INDEX outbox_unsequenced_idx;
      DROP INDEX outbox_rooms_idx;
      DROP INDEX outbox_at_idx;
      ALTER TABLE outbox DROP COLUMN seq;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE outbox ADD COLUMN seq bigint UNIQUE;
      INSERT INTO outbox (seq, rooms, event, data, at) SELECT seq, rooms, event, data, at FROM feed ORDER BY seq;
      CREATE INDEX outbox_unsequenced_idx ON outbox (id) WHERE seq IS NULL;
      CREATE INDEX outbox_rooms_idx ON outbox USING gin (rooms);
      CREATE INDEX outbox_at_idx ON outbox (at);
      DROP TABLE feed;
    `);
  }
}
