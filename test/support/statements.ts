import pg from 'pg';

type Query = (this: pg.Client, ...args: unknown[]) => unknown;
export type Statement = { sql: string; params: unknown[]; client: pg.Client; trip: number; name?: string };

/**
 * Every statement the in-process node sends while `work` runs, whichever way it goes: in a transaction, alone, or
 * in one round trip with others (db/pipeline.ts): all end in a pg client's `query`. `client` is the connection that
 * sent it, so a transaction's statements can be told from others sent meanwhile; statements sent in one round trip
 * share their `trip`; a prepared statement has its `name`.
 */
export async function statementsOf(work: () => Promise<unknown>): Promise<Statement[]> {
  const seen: Statement[] = [];
  let trips = 0;
  const original = pg.Client.prototype.query as unknown as Query;
  (pg.Client.prototype as unknown as { query: Query }).query = function (this: pg.Client, config: unknown, values?: unknown, ...rest: unknown[]) {
    const trip = trips++;
    const asConfig =
      typeof config === 'object' && config !== null
        ? (config as { text: string; name?: string; values?: unknown[]; statements?: Array<{ text: string; name?: string; values?: unknown[] }> })
        : null;
    if (asConfig?.statements) for (const s of asConfig.statements) seen.push({ sql: s.text, params: s.values ?? [], client: this, trip, name: s.name });
    else
      seen.push({
        sql: asConfig ? asConfig.text : String(config),
        params: (Array.isArray(values) ? values : asConfig?.values) ?? [],
        client: this,
        trip,
        name: asConfig?.name,
      });
    return original.call(this, config, values, ...rest);
  };
  try {
    await work();
  } finally {
    (pg.Client.prototype as unknown as { query: Query }).query = original;
  }
  return seen;
}

/**
 * The round trips of the transactions `work` runs (on the connections that sent a BEGIN meanwhile: not the sequencer's
 * or the job queue's), and the first trip of the last one, each statement cut to its first four words.
 */
export async function tripsOf(work: () => Promise<unknown>): Promise<{ trips: number; first: string[] }> {
  const statements = await statementsOf(work);
  const own = statements.filter((s) => statements.some((b) => b.client === s.client && b.sql === 'BEGIN'));
  const last = own.filter((s) => s.sql === 'BEGIN').at(-1)!;
  const first = own.filter((s) => s.trip === last.trip).map((s) => s.sql.replace(/\s+/g, ' ').trim().split(' ').slice(0, 4).join(' '));
  return { trips: new Set(own.map((s) => s.trip)).size, first };
}
