import { mkdirSync } from 'node:fs';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { toSafeInteger } from './columns.js';
import { migrations } from './migrations/index.js';

export type DatabaseConfig = { kind: 'postgres'; url: string; poolSize: number } | { kind: 'pglite'; dir: string };

/**
 * One DataSource for either database. TypeORM connects, pools and migrates; queries are SQL written
 * with the `sql` tag (db/sql.ts) against the row types of db/tables.ts. Migrations are the only way the schema changes.
 */
export function createDataSource(db: DatabaseConfig): DataSource {
  const common = {
    type: 'postgres' as const,
    migrations,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    installExtensions: false,
    uuidExtension: 'pgcrypto' as const,
    logging: false,
  };
  if (db.kind === 'postgres') {
    return new DataSource({ ...common, url: db.url, poolSize: db.poolSize, extra: { max: db.poolSize } });
  }
  // `memory://` keeps a throwaway database in memory (tests); anything else is a folder that survives restarts.
  if (!db.dir.startsWith('memory://')) mkdirSync(db.dir, { recursive: true });
  return new DataSource({ ...common, driver: new PGliteDriver({ dataDir: db.dir, extensions: { pg_trgm } }).driver });
}

// pg returns int8 as a string and PGlite as a number; read both as a safe integer so raw queries agree.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => toSafeInteger(value));
