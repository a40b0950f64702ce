import { sql, type Sql } from '../db/sql.js';
import { AppError } from './errors.js';

/** Opaque cursors: the sort key of the last item seen, as strings. */
export function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/** The column type of each part of a cursor, named as in the SQL cast it is bound with. */
export type CursorPart = 'uuid' | 'timestamptz' | 'bigint' | 'integer' | 'text';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** As PostgreSQL prints a timestamptz (`created_at::text`): `2026-11-25 15:22:18.123456+00`. */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?([+-]\d{2}(:?\d{2}){0,2}|Z)?$/;
const COUNT = /^\d{1,16}$/;

function validTimestamp(s: string): boolean {
  const m = TIMESTAMP.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const day = new Date(Date.UTC(y, mo - 1, d));
  return y >= 1 && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && h < 24 && mi < 60 && se < 60;
}

/** Keys are never negative (prices, counts, serial ids, offsets), so neither is a cursor's. */
const FITS: Record<CursorPart, (s: string) => boolean> = {
  uuid: (s) => UUID.test(s),
  timestamptz: validTimestamp,
  bigint: (s) => COUNT.test(s) && Number(s) <= Number.MAX_SAFE_INTEGER,
  integer: (s) => COUNT.test(s) && Number(s) <= 2_147_483_647,
  text: (s) => !s.includes('\u0000'),
};

/**
 * Decodes a cursor and checks every part against the type of the column it is compared with, so
 * an edited cursor is BAD_REQUEST here rather than a database error later.
 */
export function decodeCursor<const K extends readonly CursorPart[]>(cursor: string, kinds: K): { -readonly [I in keyof K]: string } {
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (Array.isArray(parts) && parts.length === kinds.length && parts.every((p, i) => typeof p === 'string' && FITS[kinds[i]!](p)))
      return parts as { -readonly [I in keyof K]: string };
  } catch {
    // fall through to the coded error
  }
  throw new AppError('BAD_REQUEST', 'invalid cursor');
}

/**
 * The keyset condition of a page: rows after the cursor in the list's order, `(k1, k2) < (c1, c2)` for a
 * descending list (`>` ascending), each cursor part bound with its column's type. True without a cursor.
 */
export function afterCursor(cursor: string | undefined, keys: ReadonlyArray<readonly [column: Sql, kind: CursorPart]>, order: 'asc' | 'desc' = 'desc'): Sql {
  if (!cursor) return sql`true`;
  const parts = decodeCursor(
    cursor,
    keys.map(([, kind]) => kind),
  );
  const values = parts.map((p, i) => sql`${p}::${sql.raw(keys[i]![1])}`);
  return sql`(${sql.join(keys.map(([column]) => column))}) ${sql.raw(order === 'desc' ? '<' : '>')} (${sql.join(values)})`;
}

/** Cuts one extra row fetched to learn whether another page exists. */
export function page<Row, Item>(rows: Row[], limit: number, toItem: (r: Row) => Item, keyOf: (r: Row) => string[]) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items: items.map(toItem), nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}
