import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { z } from 'zod';
import { eventNames } from '../../protocol/index.js';
import type { ErrorCode, InputIssue, WireError } from '../../protocol/errors.js';
import { allows, isIdempotent } from '../../protocol/spec.js';
import { socketAddress } from '../client-address.js';
import type { Deps, IoSocket } from '../deps.js';
import { dataError } from '../db-errors.js';
import { AppError, detailsMismatch, sessionEnded } from '../errors.js';
import { socketCtx, type Ctx } from './context.js';
import { once } from './idempotency.js';
import { checkRawInput } from './raw-input.js';
import { RateLimiter, type Take } from './rate-limit.js';
import type { Registration } from './rpc.js';

type Ack = (response: unknown) => void;

/** Counts calls in flight so a draining node can wait for them. */
export class Inflight {
  private count = 0;
  private waiters: Array<() => void> = [];
  draining = false;
  enter(): void {
    this.count++;
  }
  leave(): void {
    if (--this.count === 0) for (const w of this.waiters.splice(0)) w();
  }
  get size(): number {
    return this.count;
  }
  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** Random bytes drawn many calls at a time: a request id stays unguessable without a draw from the CSPRNG per call. */
const ID_BYTES = 6;
let idPool = Buffer.alloc(0);
let idAt = 0;
function newRequestId(): string {
  if (idAt + ID_BYTES > idPool.length) {
    idPool = randomBytes(ID_BYTES * 4096);
    idAt = 0;
  }
  return idPool.toString('base64url', idAt, (idAt += ID_BYTES));
}

function issuesOf(error: z.ZodError): InputIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), code: i.code, message: i.message }));
}

/** Of two rate-limit answers, the one that makes the caller wait longer. */
function slower(a: Take, b: Take): Take {
  if (a.ok) return b;
  if (b.ok) return a;
  return a.retryInMs >= b.retryInMs ? a : b;
}

/** Checks that every protocol event has exactly one handler, then returns the registry. */
export function registry(registrations: Registration[]): Map<string, Registration> {
  const byEvent = new Map<string, Registration>();
  for (const r of registrations) {
    if (byEvent.has(r.event)) throw new Error(`two handlers for ${r.event}`);
    byEvent.set(r.event, r);
  }
  const missing = eventNames.filter((e) => !byEvent.has(e));
  if (missing.length) throw new Error(`no handler for ${missing.join(', ')}`);
  return byEvent;
}

/**
 * The only place a socket's events are received. For every call: size limit, rate limit,
 * authentication and role, input validation, idempotency, the handler, error mapping, one log line
 * and metrics. Handlers never see the socket and never ack.
 */
export function mount(deps: Deps, registrations: Registration[], inflight: Inflight): () => void {
  const handlers = registry(registrations);
  const { config, metrics, log } = deps;
  const limiter = new RateLimiter(config.rpc.ratePerS, config.rpc.burst);
  const anonymous = new RateLimiter(config.rpc.addressPerS, config.rpc.addressBurst);

  /** `args` as Socket.IO hands them over: the event name, the input, then the ack callback if there is one. */
  async function dispatch(socket: IoSocket, args: unknown[]): Promise<void> {
    const started = performance.now();
    const requestId = newRequestId();
    const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as Ack) : undefined;
    const event = args[0];
    const input = args[1];
    const session = socket.data.session;
    const actor = session && !socket.data.ended && session.expiresAt > Date.now() ? session.actor : null;
    // A raw frame can name its event with anything (a number, nothing at all): only a string names one.
    const name = typeof event === 'string' ? event : null;
    const reg = name === null ? undefined : handlers.get(name);
    let code: ErrorCode | 'OK' = 'OK';
    // A flood is logged once per burst, when it is first refused; every call is counted in metrics.
    let quiet = false;
    inflight.enter();
    try {
      // First, so that no malformed or unknown call escapes the limit.
      const address = socketAddress(socket, config.trustProxy);
      const rate = actor ? limiter.take(actor.userId) : slower(limiter.take(socket.id), anonymous.take(`address:${address ?? 'unknown'}`));
      quiet = !rate.ok && !rate.first;
      if (!rate.ok) throw new AppError('RATE_LIMITED', 'too many calls; slow down', { retryInMs: rate.retryInMs });
      if (name === null) throw new AppError('BAD_REQUEST', 'a call must name its event with a string');
      if (!reg) throw new AppError('NOT_FOUND', `unknown event ${JSON.stringify(name.slice(0, 80))}`);
      if (!ack) throw new AppError('BAD_REQUEST', `${name} must be sent with an ack callback`);
      if (inflight.draining) throw new AppError('UNAVAILABLE', 'this node is shutting down; reconnect and retry');
      const raw = checkRawInput(input, config.rpc.maxBytes);
      if (raw.tooLarge) throw new AppError('PAYLOAD_TOO_LARGE', `input is larger than ${config.rpc.maxBytes} bytes`);
      if (!allows(reg.spec.roles, actor?.role)) {
        if (socket.data.ended) throw sessionEnded();
        if (!actor) throw new AppError('UNAUTHENTICATED', session ? 'the access token has expired; call auth:refresh' : 'sign in first');
        throw new AppError('FORBIDDEN', `${actor.role} may not call ${reg.event}`, { reason: 'role' });
      }
      if (raw.nul.length) throw new AppError('BAD_REQUEST', `invalid input for ${name}`, raw.nul);
      const parsed = reg.spec.input.safeParse(input);
      if (!parsed.success) throw new AppError('BAD_REQUEST', `invalid input for ${reg.event}`, issuesOf(parsed.error));

      const ctx = socketCtx(requestId, actor, socket, address, deps, log);
      const handler = reg.handler as (ctx: Ctx, input: unknown) => unknown;
      const data =
        actor && isIdempotent(reg.spec)
          ? await once(ctx, actor.userId, reg.event, parsed.data as { idempotencyKey: string }, (ctx) => Promise.resolve(handler(ctx, parsed.data)))
          : await handler(ctx, parsed.data);
      if (config.rpc.validateResults) {
        const checked = reg.spec.result.safeParse(data);
        if (!checked.success) throw new Error(`${reg.event} returned a result that breaks its schema: ${JSON.stringify(issuesOf(checked.error))}`);
      }
      ack!({ ok: true, data });
    } catch (err) {
      // The one mapping from a failure to the wire: an AppError as it is, anything else INTERNAL (and logged).
      const mapped = err instanceof AppError ? err : (dataError(err) ?? (actor && (await deps.sessions.ended(socket.id, actor)) ? sessionEnded() : null));
      // Like results, error details are held to their schema in tests and development: a mismatch is a server bug.
      const mismatch = mapped && config.rpc.validateResults ? detailsMismatch(mapped) : null;
      const expected = mismatch ? null : mapped;
      const wire: WireError = expected ? expected.toWire() : { code: 'INTERNAL', message: `internal error (request ${requestId})` };
      if (mismatch) log.error({ err, event: name, requestId, userId: actor?.userId, mismatch }, `${mapped!.code} details break their schema`);
      else if (!expected) log.error({ err, event: name, requestId, userId: actor?.userId }, 'unexpected error');
      code = wire.code;
      if (ack) ack({ ok: false, error: wire });
      if (!ack || !reg) socket.emit('rpc:error', { event: name?.slice(0, 80) ?? '', requestId, error: wire });
    } finally {
      // An ended session's socket goes once its answer has left.
      if (socket.data.ended) setImmediate(() => socket.disconnect(true));
      inflight.leave();
      const ms = performance.now() - started;
      const known = reg ? reg.event : '(unknown)';
      metrics.observeCall(known, code, ms / 1000);
      // Checked first so that a node logging at warn builds no line object per call.
      if (!quiet && log.isLevelEnabled('info')) log.info({ event: known, userId: actor?.userId, requestId, code, ms: Math.round(ms * 10) / 10 }, 'rpc');
    }
  }

  // One listener for every socket (Socket.IO calls it with the socket as `this`): no closure per connection.
  function receive(this: IoSocket, ...args: unknown[]): void {
    void dispatch(this, args);
  }
  deps.io.on('connection', (socket) => socket.onAny(receive));
  return () => {
    limiter.close();
    anonymous.close();
  };
}
