import pg from 'pg';
import { onTestFinished } from 'vitest';
import { dbUrl } from './env.js';
import type { Harness } from './harness.js';

/**
 * A session of its own on the test's database, in which a test plays another transaction (a checkout, say): it takes
 * rows as that one would, and sees a call of the server's reach them and wait. Closed when the test ends.
 */
export class LockHolder {
  private constructor(
    private readonly h: Harness,
    private readonly client: pg.Client,
    readonly pid: number,
  ) {}

  static async open(h: Harness): Promise<LockHolder> {
    const client = new pg.Client({ connectionString: dbUrl(h.dbName!) });
    await client.connect();
    onTestFinished(() => client.end());
    const [row] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
    return new LockHolder(h, client, row!.pid);
  }

  async query(text: string, params?: unknown[]): Promise<void> {
    await this.client.query(text, params);
  }

  /**
   * How many sessions wait for a lock this one holds, or queue behind one that does (the second to want a row waits
   * for the first in line); only those, so a session waiting on something else cannot let a test go on early. Asked
   * from another session: within a transaction pg_stat_activity is a snapshot.
   */
  async waiters(): Promise<number> {
    const [row] = await this.h.q<{ n: number }>(
      `WITH RECURSIVE w AS (
         SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))
         UNION SELECT a.pid FROM pg_stat_activity a JOIN w ON w.pid = ANY(pg_blocking_pids(a.pid))
       )
       SELECT count(*)::int AS n FROM w`,
      [this.pid],
    );
    return row!.n;
  }
}
