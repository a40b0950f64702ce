import { AppError } from '../errors.js';

const outOfRange = (value: unknown) =>
  new AppError('AMOUNT_OUT_OF_RANGE', 'an amount is beyond the range this API carries', { maxMinor: Number.MAX_SAFE_INTEGER, value: String(value) });

/**
 * The one way money leaves SQL sums: the database adds as numeric (never overflowing), and the result is checked
 * here to be a whole, safe integer, so a huge total answers a coded error and never a wrong number.
 */
export function minorOf(value: string | number | bigint | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const text = String(value);
  if (!/^-?\d+$/.test(text)) throw outOfRange(text);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw outOfRange(text);
  return n;
}

/** A sum of minor amounts, checked at every step. */
export function sumMinor(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) {
    total += v;
    if (!Number.isSafeInteger(total)) throw outOfRange(total);
  }
  return total;
}

/** a × b in minor units, checked. */
export function timesMinor(a: number, b: number): number {
  const n = a * b;
  if (!Number.isSafeInteger(n)) throw outOfRange(BigInt(a) * BigInt(b));
  return n;
}
