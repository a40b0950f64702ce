import { CsvError, parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { AppError } from '../errors.js';

/** The separator of a file: `;` when its header line has more of them than commas (Excel in many locales), else `,`. */
function delimiterOf(text: string): ',' | ';' {
  const header = text.slice(0, text.search(/\r|\n|$/));
  const count = (c: string) => header.split(c).length - 1;
  return count(';') > count(',') ? ';' : ',';
}

/**
 * Strict RFC 4180 CSV, `,` or `;` separated: quoted fields may hold separators, quotes ("") and newlines; an
 * unclosed quote, text after a closing quote or a record with another number of cells than the header is refused
 * with BAD_REQUEST { line, reason } instead of being read some other way. Blank records are dropped.
 */
export function parseCsv(text: string): string[][] {
  // The line the last whole record ended on: an unclosed quote is reported where it opened, not at the end of the file.
  let lastLine = 0;
  try {
    const rows = parse(text, {
      bom: true,
      delimiter: delimiterOf(text),
      skip_empty_lines: true,
      on_record: (record: string[], context) => ((lastLine = context.lines), record),
    }) as string[][];
    return rows.filter((r) => r.some((f) => f.trim() !== ''));
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    const line = err.code === 'CSV_QUOTE_NOT_CLOSED' ? lastLine + 1 : Number(err.lines);
    throw new AppError('BAD_REQUEST', `the CSV cannot be read at line ${line}: ${err.message}`, { line, reason: err.code });
  }
}

/**
 * Spreadsheets run a cell that starts with = + - @ (or a tab or CR before one) as a formula. Such text is written
 * with a leading apostrophe, which spreadsheets show as text; a value that itself starts with an apostrophe gets one
 * more, so `unneutralise` gives back exactly what was exported. Numbers are written as they are: -5 is no formula.
 */
const FORMULA = /^['=+\-@\t\r]/;
export const neutralise = (v: string): string => (FORMULA.test(v) ? `'${v}` : v);
export const unneutralise = (v: string): string => (v.startsWith("'") && FORMULA.test(v.slice(1)) ? v.slice(1) : v);

const cell = (v: unknown): string | number => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return neutralise(String(v));
};

export const formatCsv = (rows: unknown[][]): string =>
  stringify(
    rows.map((r) => r.map(cell)),
    { record_delimiter: '\r\n' },
  );
