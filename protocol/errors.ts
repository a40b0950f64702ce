import { z } from 'zod';
import { App, Id, IsoTime } from './common.js';
import { DeviceApp } from './devices.js';
import { NotificationChannel } from './notifications.js';
import { CartProblemCode } from './ordering.js';

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
  'AMOUNT_OUT_OF_RANGE',
  'UNAVAILABLE',
  'INTERNAL',
] as const;
export const ErrorCode = z.enum(ErrorCodes);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** One zod issue, flattened: `path` joins the keys with dots (`items.0.quantity`). */
export const InputIssue = z.strictObject({ path: z.string(), code: z.string(), message: z.string() });
export type InputIssue = z.infer<typeof InputIssue>;

/** A file refused for what it is (`POST /uploads`, and the upload an import reads). */
export const FileRefusal = z.union([
  z.strictObject({ reason: z.enum(['NOT_AN_IMAGE', 'NOT_TEXT', 'UNREADABLE_IMAGE']) }).describe('the file is not of the kind asked for, or cannot be decoded'),
  z
    .strictObject({ reason: z.literal('IMAGE_TOO_LARGE'), width: z.int(), height: z.int(), maxPixels: z.int() })
    .describe('the image has more pixels than `UPLOAD_MAX_PIXELS`'),
]);
export type FileRefusal = z.infer<typeof FileRefusal>;

/** What stops a checkout, and where: `productId` is null for a problem of the whole vendor group. */
export const CheckoutProblem = z.strictObject({ vendorId: Id, productId: Id.nullable(), code: CartProblemCode, message: z.string() });
export type CheckoutProblem = z.infer<typeof CheckoutProblem>;

const CheckoutProblems = z
  .strictObject({ problems: z.array(CheckoutProblem) })
  .describe('`cart:checkout`: every problem of the cart; the code is that of the most fundamental one');

/** A code that never carries details. */
const none = z.never().optional();

const retryInMs = z.int().min(1).describe('milliseconds to wait before trying again');

/**
 * Each code with what it means and the `details` it carries. A code whose schema is optional may come
 * without details; a union lists every form it takes. The server checks every error it sends against
 * these schemas when `VALIDATE_RESULTS` is on (tests, development), and `ERRORS.md` is generated from them.
 */
export const errors = {
  BAD_REQUEST: {
    summary: 'The input is malformed or breaks a rule of the data. Nothing changed; fix the input, do not retry as is.',
    details: z
      .union([
        z.array(InputIssue).describe('the input fails its schema (or holds a NUL character): one issue per problem'),
        z
          .strictObject({ line: z.int().min(1), reason: z.string() })
          .describe('a CSV that cannot be read: the line and the parser’s code (`CSV_QUOTE_NOT_CLOSED`, …)'),
        FileRefusal,
        z.strictObject({ reason: z.literal('NO_FILE') }).describe('`POST /uploads` without a multipart field `file`'),
        z.strictObject({ field: z.string() }).describe('a message whose address or recipient its channel cannot use: `field` names it'),
        z
          .strictObject({ field: z.string(), min: z.int(), max: z.int() })
          .describe('a number outside the bounds this deployment allows (`vendors:update` `acceptanceWindowS`)'),
        z
          .strictObject({ group: z.literal('account'), channels: z.array(NotificationChannel) })
          .describe('`notifications:preferences:set` turning off account and security messages on these channels'),
        z.strictObject({ constraint: z.string().optional() }).describe('the change breaks a check of the database; `constraint` names it'),
        z.strictObject({ sqlState: z.string() }).describe('a value does not fit its field (a PostgreSQL data exception, class 22)'),
      ])
      .optional()
      .describe('absent: a rule of the event that the message explains'),
  },
  UNAUTHENTICATED: {
    summary: 'Not signed in, the access token has expired (call `auth:refresh`), the session has ended, or wrong credentials.',
    details: none,
  },
  FORBIDDEN: {
    summary: 'Signed in, but this account may not do this.',
    details: z
      .union([
        z.strictObject({ reason: z.literal('role') }).describe('the event is not open to this role'),
        z.strictObject({ reason: z.literal('zone') }).describe('an admin limited to zones acting outside them, or on what spans every zone'),
        z
          .strictObject({ reason: z.literal('app'), app: z.union([App, DeviceApp]) })
          .describe(
            '`auth:login` or `devices:register` from the wrong app: `app` is the one this role uses (`mobile`, `dashboard`, `driver` to sign in; `shop`, `driver` for a device)',
          ),
      ])
      .optional()
      .describe('absent: an ownership or business rule that the message explains'),
  },
  NOT_FOUND: {
    summary: 'No such object within the caller’s reach (another tenant’s object answers the same), or an unknown event.',
    details: z
      .union([
        z.strictObject({ zoneIds: z.array(Id) }).describe('zones asked for, when one of them is missing or inactive'),
        z.strictObject({ ids: z.array(Id) }).describe('`notifications:read`: the ids that are not the caller’s notifications'),
      ])
      .optional()
      .describe('absent: the object or event named'),
  },
  CONFLICT: {
    summary: 'The request clashes with the current state: a taken value, something already done, or a state that must change first.',
    details: z
      .union([
        z.strictObject({ field: z.enum(['email', 'phone']) }).describe('another account has this login'),
        z.strictObject({ id: Id, parentId: Id }).describe('`categories:move` under the category itself or a descendant'),
        z.strictObject({ products: z.int(), children: z.int() }).describe('`categories:delete` of a category still holding these, without `reassignTo`'),
        z.strictObject({ held: z.int() }).describe('a cash handover above what the driver holds'),
        z.strictObject({ promotionId: Id }).describe('an automatic promotion overlapping this one on the same items and time'),
        CheckoutProblems,
      ])
      .optional()
      .describe('absent: the message says what clashes'),
  },
  INVALID_TRANSITION: {
    summary: 'The object’s status does not allow this change; reload it and see what it is now.',
    details: z.union([
      z.strictObject({ from: z.string(), to: z.string() }).describe('a status change the workflow does not allow'),
      z.strictObject({ status: z.string(), allowed: z.array(z.string()) }).describe('an action that needs one of the `allowed` statuses'),
    ]),
  },
  INSUFFICIENT_STOCK: {
    summary: 'Not enough stock for what was asked; nothing was taken.',
    details: z.union([
      z
        .strictObject({ products: z.array(z.strictObject({ productId: Id, requested: z.int(), available: z.int() })) })
        .describe('a stock movement (`stock:adjust`, a sale) that would go below zero'),
      CheckoutProblems,
    ]),
  },
  MIN_ORDER_NOT_MET: {
    summary: 'A line is below its minimum quantity or a vendor group below its minimum order value.',
    details: CheckoutProblems,
  },
  OUT_OF_ZONE: {
    summary: 'The vendor or product does not serve the zone in question.',
    details: z.union([CheckoutProblems, z.strictObject({ zoneIds: z.array(Id) }).describe('zones named for a product that its vendor does not serve')]),
  },
  LOCKED: {
    summary: 'Too many failed sign-ins for this account: it is locked until `retryAt` (or an admin’s `users:unlock`).',
    details: z.strictObject({ retryAt: IsoTime, retryInS: z.int().min(1) }),
  },
  RATE_LIMITED: {
    summary: 'Too many calls, sign-ins, password checks or uploads: wait `retryInMs`, then retry.',
    details: z.strictObject({ retryInMs }),
  },
  PAYLOAD_TOO_LARGE: {
    summary: 'The call’s input is larger than `RPC_MAX_BYTES`, or an upload larger than `UPLOAD_MAX_BYTES`.',
    details: z
      .strictObject({ reason: z.literal('TOO_MANY_BYTES'), maxBytes: z.int() })
      .describe('an upload (HTTP 413): `maxBytes` is the limit')
      .optional()
      .describe('absent: a call'),
  },
  IDEMPOTENCY_MISMATCH: {
    summary: 'This idempotency key was used before with a different input; a retry must send the same input.',
    details: none,
  },
  AMOUNT_OUT_OF_RANGE: {
    summary: 'A money amount or total is outside what is accepted.',
    details: z.union([
      z
        .strictObject({ expectedMinor: z.int(), minMinor: z.int(), maxMinor: z.int() })
        .describe('`cash:collect`: the order total and the amounts accepted around it'),
      z.strictObject({ maxMinor: z.int() }).describe('a cart above `MAX_ORDER_MINOR`'),
      z.strictObject({ maxMinor: z.int(), value: z.string() }).describe('a sum beyond a safe integer: `value` is the sum, in decimal'),
    ]),
  },
  UNAVAILABLE: {
    summary: 'The node is shutting down, or the call got no answer in time: reconnect and retry.',
    details: none,
  },
  INTERNAL: {
    summary: 'An unexpected failure; the message holds a request id that is in the server log.',
    details: none,
  },
} as const satisfies Record<ErrorCode, { summary: string; details: z.ZodType }>;

/** The `details` an error with code `C` carries. */
export type DetailsOf<C extends ErrorCode> = z.output<(typeof errors)[C]['details']>;

/** An error with code `C` as it travels; `details` is required where every form of the code has it. */
export type WireErrorOf<C extends ErrorCode> = { code: C; message: string } & (undefined extends DetailsOf<C>
  ? { details?: DetailsOf<C> }
  : { details: DetailsOf<C> });
/** Any error as it travels; narrow `details` by `code`. */
export type WireError = { [C in ErrorCode]: WireErrorOf<C> }[ErrorCode];

export const WireError = z.discriminatedUnion(
  'code',
  ErrorCodes.map((code) => z.object({ code: z.literal(code), message: z.string(), details: errors[code].details })) as unknown as [
    z.ZodObject<{ code: z.ZodLiteral<ErrorCode>; message: z.ZodString; details: z.ZodType }>,
  ],
) as unknown as z.ZodType<WireError>;

/** The ack of any call that failed: one schema, so the AsyncAPI document names it once. */
export const Failure = z.object({ ok: z.literal(false), error: WireError });

export function ackOf<T extends z.ZodType>(data: T) {
  return z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), data }), Failure]);
}
export type Ack<T> = { ok: true; data: T } | { ok: false; error: WireError };

class TypedRpcError<C extends ErrorCode> extends Error {
  override readonly name = 'RpcError';
  readonly code: C;
  readonly details: DetailsOf<C>;
  constructor(error: WireErrorOf<C>) {
    super(error.message);
    this.code = error.code;
    this.details = error.details as DetailsOf<C>;
  }
}

/**
 * What a typed client call rejects with. `RpcError` alone is a union over the codes, so checking
 * `code` narrows `details`: `if (e.code === 'LOCKED') wait(e.details.retryInS)`.
 */
export type RpcError<C extends ErrorCode = ErrorCode> = C extends ErrorCode ? TypedRpcError<C> : never;
export const RpcError = TypedRpcError as unknown as {
  new <C extends ErrorCode>(error: WireErrorOf<C>): RpcError<C>;
  new (error: WireError): RpcError;
  readonly prototype: RpcError;
};

/** Whether `err` is an `RpcError`, and with one of `codes` when any are given. */
export function isRpcError<C extends ErrorCode = ErrorCode>(err: unknown, ...codes: C[]): err is RpcError<C> {
  return err instanceof TypedRpcError && (codes.length === 0 || (codes as ErrorCode[]).includes(err.code));
}
