import { createHash } from 'node:crypto';

/**
 * SQL composed as values, never as spliced text: `sql\`… WHERE id = ${id}\`` keeps `id` a parameter,
 * and a fragment interpolated into another keeps its own parameters, renumbered where it lands. So
 * no statement is built with `replace('$1', …)` or by counting placeholders by hand.
 */
export class Sql {
  /** @internal Use the `sql` tag, `sql.raw` or `sql.join`. */
  constructor(
    readonly strings: readonly string[],
    readonly values: readonly unknown[],
    private readonly isPrepared = false,
  ) {}

  /**
   * The same statement, sent as a named prepared statement on PostgreSQL: each connection parses and plans it once,
   * then only binds and runs it (planning costs hot statements more than running them), and after five runs
   * PostgreSQL keeps one generic plan for it unless planning for the values looks cheaper (inside a transaction it
   * always uses the generic plan: GENERIC_PLANS in db/tx.ts). For statements whose text takes few shapes and whose
   * plan does not depend on the values (lookups by key, rows given as arrays, a search's terms as sub-selects), never
   * where it does (a search filtered by a price range an index serves).
   */
  prepared(): Sql {
    return new Sql(this.strings, this.values, true);
  }

  /** The statement text with `$1…$n` and its parameters, in order; a prepared one also has its name. */
  compile(): { text: string; values: unknown[]; name?: string } {
    const values: unknown[] = [];
    const text = this.emit(values, new Map());
    return this.isPrepared ? { text, values, name: nameOf(text) } : { text, values };
  }

  /** `shared`: the number each Shared value got at its first place, which its other places reuse. */
  private emit(values: unknown[], shared: Map<Shared, number>): string {
    let text = this.strings[0]!;
    this.values.forEach((value, i) => {
      if (value instanceof Sql) text += value.emit(values, shared);
      else if (value instanceof Shared) {
        let n = shared.get(value);
        if (n === undefined) shared.set(value, (n = values.push(value.value)));
        text += `$${n}`;
      } else text += `$${values.push(value)}`;
      text += this.strings[i + 1]!;
    });
    return text;
  }
}

/** One parameter in several places of a statement (a library's `$5` used three times stays one `$n`). */
class Shared {
  constructor(readonly value: unknown) {}
}

const names = new Map<string, string>();

/** One name per statement text (a connection refuses one name for two texts), made once per text. */
function nameOf(text: string): string {
  let name = names.get(text);
  if (!name) names.set(text, (name = `lilium_${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`));
  return name;
}

export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  return new Sql(strings, values);
}

/** Text taken as it is: only for names and keywords the code chooses, never for input. */
sql.raw = (text: string): Sql => new Sql([text], []);

/**
 * A statement a library brings as text with its own `$1…$n` (pg-boss's job insert), as a fragment whose parameters
 * are renumbered where it lands, like any other: the text is split at its placeholders, never edited, and a `$n`
 * used in several places stays one parameter (PostgreSQL infers one type for it from all of them).
 */
sql.numbered = (text: string, values: readonly unknown[]): Sql => {
  const parts = text.split(/\$(\d+)/);
  const params = values.map((value) => new Shared(value));
  return new Sql(
    parts.filter((_, i) => i % 2 === 0),
    parts.filter((_, i) => i % 2 === 1).map((n) => params[Number(n) - 1]),
  );
};

/** Fragments joined by a separator (`, ` unless given); nothing when the list is empty. */
sql.join = (parts: readonly Sql[], separator: string = ', '): Sql =>
  parts.length === 0 ? sql.empty : new Sql(['', ...parts.slice(1).map(() => separator), ''], parts);

/** Conditions joined by AND, `true` when there are none. */
sql.and = (conditions: readonly Sql[]): Sql => (conditions.length ? sql.join(conditions, ' AND ') : sql.raw('true'));

sql.empty = new Sql([''], []);

/** A LIKE pattern matching text that contains `text` as typed: its `%`, `_` and `\\` match themselves. */
export const likeContaining = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
