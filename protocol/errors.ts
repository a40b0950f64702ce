import { z } from 'zod';

/** The closed set of error codes; clients branch on these, never on messages. */
export const ErrorCodes = [
  'BAD_REQUEST',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'INVALID_TRANSITION',
  'INSUFFICIENT_STOCK',
  'MIN_ORDER_NOT_MET',
  'OUT_OF_ZONE',
  'LOCKED',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'IDEMPOTENCY_MISMATCH',
  /** A money amount or total outside what is accepted; `details` gives the bounds. */
  'AMOUNT_OUT_OF_RANGE',
  'UNAVAILABLE',
  'INTERNAL',
] as const;
export const ErrorCode = z.enum(ErrorCodes);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const WireError = z.object({
  code: ErrorCode,
  message: z.string(),
  details: z.unknown().optional(),
});
export type WireError = z.infer<typeof WireError>;

/** The ack of any call that failed: one schema, so the AsyncAPI document names it once. */
export const Failure = z.object({ ok: z.literal(false), error: WireError });

export function ackOf<T extends z.ZodType>(data: T) {
  return z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), data }), Failure]);
}
export type Ack<T> = { ok: true; data: T } | { ok: false; error: WireError };

/** What a typed client call rejects with. */
export class RpcError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(error: WireError) {
    super(error.message);
    this.name = 'RpcError';
    this.code = error.code;
    this.details = error.details;
  }
}
