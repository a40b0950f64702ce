import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDataSource, type DatabaseConfig } from '../db/data-source.js';
import { migrations } from '../db/migrations/index.js';
import { TEST_PG_URL, dbUrl } from './support/env.js';

const dbName = `lilium_t_mig_${process.pid}`;
const admin = new pg.Client({ connectionString: TEST_PG_URL });
beforeAll(async () => {
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
});
afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.end();
});

const targets: Array<[string, () => DatabaseConfig]> = [
  ['PostgreSQL', () => ({ kind: 'postgres', url: dbUrl(dbName), poolSize: 2 })],
  ['PGlite', () => ({ kind: 'pglite', dir: 'memory://' })],
];

describe.each(targets)('migrations on %s', (_name, config) => {
  test('run up, down to nothing, and up again', async () => {
    const source = createDataSource(config());
    await source.initialize();
    const tables = async () =>
      (
        await source.query<Array<{ t: string }>>(
          "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations' ORDER BY 1",
        )
      ).map((r) => r.t);
    try {
      expect((await source.runMigrations()).length).toBe(migrations.length);
      const up = await tables();
      expect(up).toEqual(expect.arrayContaining(['users', 'products', 'idempotency_keys', 'sessions']));
      for (let i = 0; i < migrations.length; i++) await source.undoLastMigration();
      expect(await tables()).toEqual([]);
      await source.runMigrations();
      expect(await tables()).toEqual(up);
    } finally {
      await source.destroy();
    }
    // Every migration down and up again on the embedded database takes seconds, more on a busy machine.
  }, 120_000);
});
