import { expect } from 'vitest';
import { RpcError } from '../../protocol/client.js';
import type { ErrorCode } from '../../protocol/errors.js';

/** The RpcError a call rejects with; fails when it resolves or rejects with anything else. */
export async function rejection(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** 'OK' or the error code of a call. */
export const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'OK',
    (e: unknown) => {
      if (e instanceof RpcError) return e.code;
      throw e;
    },
  );

/**
 * Expects a call to fail with `code` and, when `details` is given, details that match it
 * (`toMatchObject`: objects may carry more keys, arrays must have exactly these items).
 * Returns the error for further checks.
 */
export async function fails(p: Promise<unknown>, code: ErrorCode, details?: unknown): Promise<RpcError> {
  const err = await rejection(p);
  expect({ code: err.code, details: err.details }).toMatchObject(details === undefined ? { code } : { code, details });
  return err;
}

/**
 * Expects `LOCKED` whose `retryAt` is the window after the failure that locked, made between
 * `since` and now, and whose `retryInS` counts down to it.
 */
export function expectLocked(err: RpcError, since: number, windowS = 900): void {
  expect(err.code).toBe('LOCKED');
  const { retryAt, retryInS } = err.details as { retryAt: string; retryInS: number };
  const at = Date.parse(retryAt);
  // A second of slack each way: the database and this process read the clock separately.
  expect(at).toBeGreaterThanOrEqual(since + windowS * 1000 - 1000);
  expect(at).toBeLessThanOrEqual(Date.now() + windowS * 1000 + 1000);
  expect(Math.abs(retryInS - (at - Date.now()) / 1000)).toBeLessThanOrEqual(2);
}

/** Expects `RATE_LIMITED` with a `retryInMs` of at most `maxMs` and at least `minMs`. */
export function expectRateLimited(err: RpcError, minMs: number, maxMs: number): void {
  expect(err.code).toBe('RATE_LIMITED');
  const { retryInMs } = err.details as { retryInMs: number };
  expect(Number.isInteger(retryInMs)).toBe(true);
  expect(retryInMs).toBeGreaterThanOrEqual(minMs);
  expect(retryInMs).toBeLessThanOrEqual(maxMs);
}
