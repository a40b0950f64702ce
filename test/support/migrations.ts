import type { MigrationInterface } from 'typeorm';
import type { Harness } from './harness.js';

/** Runs migrations down, last first, then up again in order, on the harness's database: what a migration's data step does to rows already there. */
export async function downAndUp(h: Harness, migrations: MigrationInterface[]): Promise<void> {
  const runner = h.app.deps.db.source.createQueryRunner();
  try {
    for (const m of [...migrations].reverse()) await m.down(runner);
    for (const m of migrations) await m.up(runner);
  } finally {
    await runner.release();
  }
}
