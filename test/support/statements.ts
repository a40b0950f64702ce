import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner.js';

/** Every statement the in-process node sends while `work` runs, with the query runner (the connection's session) that sent it. */
export async function statementsOf(work: () => Promise<unknown>): Promise<Array<{ sql: string; params: unknown[]; runner: object }>> {
  const seen: Array<{ sql: string; params: unknown[]; runner: object }> = [];
  const original = PostgresQueryRunner.prototype.query;
  PostgresQueryRunner.prototype.query = function (this: PostgresQueryRunner, sql: string, params?: unknown[], ...rest: unknown[]) {
    seen.push({ sql, params: params ?? [], runner: this });
    return (original as (...a: unknown[]) => Promise<unknown>).call(this, sql, params, ...rest);
  } as typeof original;
  try {
    await work();
  } finally {
    PostgresQueryRunner.prototype.query = original;
  }
  return seen;
}
