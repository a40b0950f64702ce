import { readFile } from 'node:fs/promises';
import { expect, test } from 'vitest';
import { ErrorCodes, RpcError, WireError, errors, isRpcError, type DetailsOf } from '../../protocol/errors.js';
import { ERRORS_MD, errorsMarkdown } from '../../protocol/scripts/errors-doc.js';
import { AppError, detailsMismatch } from '../../server/errors.js';

// The error contract without a server: schemas per code, the typed client error, the generated table.

test('every code has a meaning and a details schema', () => {
  expect(Object.keys(errors)).toEqual([...ErrorCodes]);
  for (const code of ErrorCodes) expect(errors[code].summary.length).toBeGreaterThan(10);
});

test('details that fit their code pass the check; anything else is named', () => {
  expect(detailsMismatch(new AppError('LOCKED', 'locked', { retryAt: '2026-01-01T10:00:00.000Z', retryInS: 60 }))).toBeNull();
  expect(detailsMismatch(new AppError('FORBIDDEN', 'wrong app', { reason: 'app', app: 'dashboard' }))).toBeNull();
  expect(detailsMismatch(new AppError('FORBIDDEN', 'a rule'))).toBeNull();
  expect(detailsMismatch(new AppError('BAD_REQUEST', 'bad', [{ path: 'a.0', code: 'too_small', message: 'too small' }]))).toBeNull();
  // What the types refuse at compile time is refused at run time too (a cast, or data from the database).
  expect(detailsMismatch(new AppError('RATE_LIMITED', 'slow', { retryInMs: 0 }))).toBe('✖ Too small: expected number to be >=1\n  → at retryInMs');
  expect(detailsMismatch(new AppError('LOCKED', 'locked', { retryAt: '2026-01-01T10:00:00.000Z', retryInS: 60, extra: 1 } as never))).toBe(
    '✖ Unrecognized key: "extra"',
  );
  expect(detailsMismatch(new AppError('IDEMPOTENCY_MISMATCH', 'x', { key: 'k' } as never))).toBe('✖ Invalid input: expected never, received object');
  expect(detailsMismatch(new AppError('INVALID_TRANSITION', 'x', { from: 'PENDING' } as never))).toContain('✖ Invalid input');
});

test('the wire schema takes each code with its own details only', () => {
  expect(WireError.safeParse({ code: 'RATE_LIMITED', message: 'slow', details: { retryInMs: 5 } }).success).toBe(true);
  expect(WireError.safeParse({ code: 'RATE_LIMITED', message: 'slow' }).success).toBe(false);
  expect(WireError.safeParse({ code: 'RATE_LIMITED', message: 'slow', details: { retryAt: '2026-01-01T10:00:00.000Z', retryInS: 5 } }).success).toBe(false);
  expect(WireError.safeParse({ code: 'NOT_FOUND', message: 'gone' }).success).toBe(true);
  expect(WireError.safeParse({ code: 'NOPE', message: 'x' }).success).toBe(false);
});

test('an RpcError is narrowed by its code', () => {
  const thrown: unknown = new RpcError({ code: 'LOCKED', message: 'locked', details: { retryAt: '2026-01-01T10:00:00.000Z', retryInS: 60 } });
  expect(thrown).toBeInstanceOf(Error);
  expect(isRpcError(thrown)).toBe(true);
  expect(isRpcError(thrown, 'RATE_LIMITED')).toBe(false);
  expect(isRpcError(new Error('x'))).toBe(false);
  const waitS = (e: RpcError): number | null => (e.code === 'LOCKED' ? e.details.retryInS : e.code === 'RATE_LIMITED' ? e.details.retryInMs / 1000 : null);
  if (!isRpcError(thrown)) throw new Error('unreachable');
  expect([thrown.name, thrown.message, thrown.code, waitS(thrown)]).toEqual(['RpcError', 'locked', 'LOCKED', 60]);
  if (isRpcError(thrown, 'LOCKED')) {
    const details: DetailsOf<'LOCKED'> = thrown.details;
    expect(details).toEqual({ retryAt: '2026-01-01T10:00:00.000Z', retryInS: 60 });
  }
});

test('protocol/ERRORS.md is what npm run docs:errors writes from the schemas', async () => {
  const written = await readFile(ERRORS_MD, 'utf8');
  expect(written, 'protocol/ERRORS.md is stale: run `npm run docs:errors`').toBe(await errorsMarkdown());
  for (const code of ErrorCodes) expect(written).toContain(`## ${code}\n`);
});
