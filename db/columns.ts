/** Reads an int8 (which pg returns as a string) as a number, refusing any value past the safe integers. */
export function toSafeInteger(value: string | number | bigint): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`integer out of the safe range: ${value}`);
  return n;
}
