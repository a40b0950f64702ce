import type { ValueTransformer } from 'typeorm';

/** Reads a `bigint` column (which pg returns as a string) as a number, refusing any unsafe value. */
export const safeBigint: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : toSafeInteger(value)),
};

export function toSafeInteger(value: string | number | bigint): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`integer out of the safe range: ${value}`);
  return n;
}
