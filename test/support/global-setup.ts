import pg from 'pg';
import { createDataSource } from '../../db/data-source.js';
import { seed } from '../../db/seed/seed.js';
import { Db } from '../../db/tx.js';
import { DEMO_PASSWORD, TEMPLATE_DB, TEST_PG_URL, dbUrl } from './env.js';

/** Builds the migrated, seeded template every test database is cloned from (cheap: a file copy). */
export default async function setup(): Promise<() => Promise<void>> {
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  // Leftovers of interrupted runs: another run may be going on right now, so only databases over two hours old.
  const stale = await admin
    .query<{ datname: string }>(
      `SELECT datname FROM pg_database
        WHERE (datname LIKE 'lilium\\_t\\_%' OR datname LIKE 'lilium\\_tpl\\_%' OR datname = 'lilium_test_template')
          AND (pg_stat_file('base/' || oid || '/PG_VERSION')).modification < now() - interval '2 hours'`,
    )
    .catch(() => ({ rows: [] as Array<{ datname: string }> })); // reading file times needs a superuser; then leave them
  for (const { datname } of stale.rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  await admin.query(`DROP DATABASE IF EXISTS "${TEMPLATE_DB}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${TEMPLATE_DB}"`);

  const source = createDataSource({ kind: 'postgres', url: dbUrl(TEMPLATE_DB), poolSize: 2 });
  await source.initialize();
  await source.runMigrations();
  await new Db(source, 'postgres').tx((tx) => seed(tx, { password: DEMO_PASSWORD, bcryptCost: 4 }));
  await source.destroy();

  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS "${TEMPLATE_DB}" WITH (FORCE)`);
    await admin.end();
  };
}
