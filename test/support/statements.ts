import pg from 'pg';

type Query = (this: pg.Client, ...args: unknown[]) => unknown;

/**
 * Every statement the in-process node sends while `work` runs, whichever way it goes: through TypeORM's query
 * runners (transactions) or straight to the pool (reads): both end in a pg client's `query`. `client` is the
 * connection that sent it, so a transaction's statements can be told from others sent meanwhile.
 */
export async function statementsOf(work: () => Promise<unknown>): Promise<Array<{ sql: string; params: unknown[]; client: pg.Client }>> {
  const seen: Array<{ sql: string; params: unknown[]; client: pg.Client }> = [];
  const original = pg.Client.prototype.query as unknown as Query;
  (pg.Client.prototype as unknown as { query: Query }).query = function (this: pg.Client, config: unknown, values?: unknown, ...rest: unknown[]) {
    const asConfig = typeof config === 'object' && config !== null ? (config as { text: string; values?: unknown[] }) : null;
    seen.push({ sql: asConfig ? asConfig.text : String(config), params: (Array.isArray(values) ? values : asConfig?.values) ?? [], client: this });
    return original.call(this, config, values, ...rest);
  };
  try {
    await work();
  } finally {
    (pg.Client.prototype as unknown as { query: Query }).query = original;
  }
  return seen;
}
