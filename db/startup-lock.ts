import pg from 'pg';
import type { DatabaseConfig } from './data-source.js';

/** Beside the sequencer's (7462002) and the category tree's (7462003). */
const STARTUP_LOCK = 7462000;

/**
 * Runs `fn` (migrations, seeding, the first admin) while this process holds the startup lock, so
 * nodes starting together on one empty database take turns instead of racing to create the same
 * tables. The lock lives on a connection of its own, outside the pool, so a pool of one cannot
 * deadlock on it; ending that session releases it even if `fn` throws. PGlite belongs to one
 * process and needs none.
 */
export async function withStartupLock<T>(db: DatabaseConfig, fn: () => Promise<T>): Promise<T> {
  if (db.kind !== 'postgres') return fn();
  const client = new pg.Client({ connectionString: db.url });
  // A dropped connection only drops the lock; the work reports its own errors.
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [STARTUP_LOCK]);
    return await fn();
  } finally {
    await client.end().catch(() => undefined);
  }
}
