import pg from 'pg';

/** pg's own mapping of parameter values to their wire text (dates, arrays, JSON), as its Query binds them; untyped. */
const { prepareValue } = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils;

/** A statement as `Sql.compile()` gives it: a name when it is prepared. */
export type Compiled = { text: string; values?: unknown[]; name?: string };

/** The parts of pg's Connection this module drives (the wire protocol's messages). */
type Wire = {
  stream: { cork?(): void; uncork?(): void };
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  parse(msg: { text: string; name: string }): void;
  bind(msg: { statement: string; values: unknown[] }): void;
  describe(msg: { type: 'P'; name: string }): void;
  execute(msg: { portal: string }): void;
  sync(): void;
  on(event: 'parseComplete', listener: () => void): void;
  removeListener(event: 'parseComplete', listener: () => void): void;
};

type Results = pg.QueryResult | pg.QueryResult[];
/** pg's Query as this module extends it: its message handlers and result bookkeeping are untyped. */
const Query = pg.Query as unknown as new (config: { text: string; callback: (err: Error | null, results: Results) => void }) => {
  handleError(err: Error, connection: unknown): void;
  handleReadyForQuery(connection: unknown): void;
  /** The results so far, one per statement begun; a finished one has its command tag. */
  _results: Results;
  /** A row that could not be parsed: the error reported at ReadyForQuery, whichever statement it was in. */
  _canceledDueToError: Error | false | undefined;
};

/** One statement's answer. */
export type Answer = Pick<pg.QueryResult, 'rows' | 'command'>;

/** How a pipeline ended: the answers of the statements that ran, in order, and the error that stopped the rest, if any. */
export type Settled = { answers: Answer[]; error: Error | null };

/**
 * Statements sent to one connection in one write and answered after one Sync: PostgreSQL's extended-protocol
 * pipeline, one round trip for all of them. Once one fails the server skips the rest up to the Sync, so a COMMIT
 * sent behind a write that failed never runs, and nothing sent behind a BEGIN that failed runs outside a transaction.
 * A pg Query with several results (one per statement, in order), sent as a whole by `submit`; pg's client has no
 * pipeline of its own that keeps that guarantee (its pipeline mode sends a Sync per statement).
 */
class Pipelined extends Query {
  /** The named statements this write parses, in order of their Parse messages ('' for an unnamed one). */
  private parses: Array<{ name: string; text: string }> = [];
  private wire: Wire | null = null;
  private readonly onParsed = () => {
    const next = this.parses.shift();
    if (next?.name && this.wire) this.wire.parsedStatements[next.name] = next.text;
  };

  constructor(
    readonly statements: Compiled[],
    callback: (err: Error | null, results: Results) => void,
  ) {
    // No name of its own: pg's client would mark it parsed at the first ParseComplete of the write, whichever it was.
    super({ text: statements.map((s) => s.text).join(';\n'), callback });
  }

  submit(connection: Wire): Error | null {
    // Values are mapped to their wire text before anything is written: one that cannot be (circular JSON)
    // fails the whole pipeline here, as pg fails a query whose bind throws, instead of leaving messages without a Sync.
    let values: unknown[][];
    try {
      values = this.statements.map((s) => (s.values ?? []).map((v) => prepareValue(v)));
    } catch (err) {
      return err as Error;
    }
    this.wire = connection;
    connection.on('parseComplete', this.onParsed);
    connection.stream.cork?.();
    try {
      for (const [i, s] of this.statements.entries()) {
        const name = s.name ?? '';
        if (!name || !(name in connection.parsedStatements || name in connection.submittedNamedStatements)) {
          connection.parse({ text: s.text, name });
          this.parses.push({ name, text: s.text });
          if (name) connection.submittedNamedStatements[name] = s.text;
        }
        connection.bind({ statement: name, values: values[i]! });
        connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '' });
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }

  /** A statement this write named but the server skipped or refused is parsed nowhere: the next use parses it again. */
  private done(): void {
    if (!this.wire) return;
    this.wire.removeListener('parseComplete', this.onParsed);
    for (const p of this.parses) if (p.name) delete this.wire.submittedNamedStatements[p.name];
    this.parses = [];
    this.wire = null;
  }

  /** The statements that finished before a failure; none when the failure was a row pg could not parse, found at the end. */
  completed: Answer[] = [];

  override handleError(err: Error, connection: unknown): void {
    this.done();
    if (!this._canceledDueToError) this.completed = ([] as pg.QueryResult[]).concat(this._results).filter((r) => r.command);
    super.handleError(err, connection);
  }

  override handleReadyForQuery(connection: unknown): void {
    this.done();
    super.handleReadyForQuery(connection);
  }
}

/**
 * Runs the statements in one round trip on `client`. Never rejects: answers those that ran and, when one failed, its
 * error (the statements after it did not run). A connection that fails is reported the same way, with no answers.
 */
export function pipeline(client: pg.ClientBase, statements: Compiled[]): Promise<Settled> {
  return new Promise((resolve) => {
    const query: Pipelined = new Pipelined(statements, (err, results) =>
      resolve(err ? { answers: query.completed, error: err } : { answers: ([] as Answer[]).concat(results), error: null }),
    );
    client.query(query as unknown as pg.QueryConfig);
  });
}
