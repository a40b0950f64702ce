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
