/**
 * Row types declared once, as values: each table's columns with their PostgreSQL types, from which
 * the TypeScript row type is derived (`RowOf`). `test/schema.test.ts` checks every declaration
 * against the migrated database, so a migration and its row type cannot drift apart.
 */
export interface Column<T> {
  /** As `information_schema.columns.udt_name` names it. */
  readonly type: string;
  readonly nullable: boolean;
  /** Carries the TypeScript type only. */
  readonly __value?: T;
}

interface ColumnBuilder<T> extends Column<T> {
  /** The same column, allowing NULL. */
  null(): Column<T | null>;
}

function column<T>(type: string): ColumnBuilder<T> {
  return { type, nullable: false, null: () => ({ type, nullable: true }) };
}

/**
 * The column types in use. `int8` reads as a number: the pg driver is set to parse it as a safe
 * integer (db/data-source.ts) and PGlite answers numbers.
 */
export const col = {
  uuid: column<string>('uuid'),
  text: column<string>('text'),
  varchar: column<string>('varchar'),
  int: column<number>('int4'),
  bigint: column<number>('int8'),
  float: column<number>('float8'),
  bool: column<boolean>('bool'),
  timestamptz: column<Date>('timestamptz'),
  jsonb: <T = unknown>() => column<T>('jsonb'),
  uuids: column<string[]>('_uuid'),
  texts: column<string[]>('_text'),
  tsvector: column<string>('tsvector'),
};

export interface Table<C extends Record<string, Column<unknown>> = Record<string, Column<unknown>>> {
  readonly name: string;
  readonly columns: C;
}

export const table = <C extends Record<string, Column<unknown>>>(name: string, columns: C): Table<C> => ({ name, columns });

export type RowOf<T extends Table> = { [K in keyof T['columns']]: T['columns'][K] extends Column<infer V> ? V : never };
