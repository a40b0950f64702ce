import type { Sql } from '../../db/sql.js';
import type { Reader, Tx } from '../../db/tx.js';
import type { Actor, SocketSession } from '../auth/actor.js';
import type { Deps, IoSocket } from '../deps.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * What a service is called with: who calls, from where, and the way to the database. Statements run
 * through the context itself (`ctx.query(sql`…`)`): inside its transaction when it is bound to one,
 * otherwise each on its own. `ctx.tx(async (ctx) => …)` hands back a context bound to a transaction
 * (the caller's, or a new one), so helpers take a context and nothing else.
 */
export interface Ctx extends Reader {
  readonly requestId: string;
  readonly actor: Actor | null;
  readonly socketId: string | null;
  readonly clientAddress: string | null;
  readonly deps: Deps;
  readonly log: Logger;
  /** Authenticates the calling socket in place (login, refresh); null outside a socket call. */
  readonly bindSocket: ((session: SocketSession) => void) | null;
  /** Runs `fn` in the caller's transaction, or in a new one, with a context bound to it. */
  tx<T>(fn: (ctx: TxCtx) => Promise<T>): Promise<T>;
  /**
   * The same, with `opening` run first and its rows handed to `fn`: in a new transaction it goes in one round trip with
   * the caller's session check (the RPC layer's idempotency claim), and `fn` runs only once both are answered.
   */
  txAfter<T, R = Record<string, unknown>>(opening: Sql, fn: (ctx: TxCtx, rows: R[]) => Promise<T>): Promise<T>;
}

/** A context bound to an open transaction: also a `Tx`, so work can wait for its commit (`afterCommit`). */
export interface TxCtx extends Ctx, Tx {}

/** A context outside a socket call (a job's): its logger is used as it is. */
export type CtxBase = Pick<Ctx, 'requestId' | 'actor' | 'socketId' | 'clientAddress' | 'deps' | 'log'> & { bindSocket: null };

/**
 * A call's context outside a transaction. A class whose fields are its constructor's arguments, so that making
 * one per call allocates one object and no functions (under tsx every function made per call also pays esbuild's
 * `__name`): its methods are on the prototype, and what few calls use is made on first use — the logger (a pino
 * child serialises its bindings and sets up redaction) and `bindSocket`.
 */
class CallCtx implements Ctx {
  private callLog: Logger | undefined;

  /** `parentLog` becomes a child bound to the request id on first use, unless `ownLog` (a job's logger is its own). */
  constructor(
    readonly requestId: string,
    readonly actor: Actor | null,
    readonly socketId: string | null,
    readonly clientAddress: string | null,
    readonly deps: Deps,
    private readonly parentLog: Logger,
    private readonly ownLog: boolean,
    protected readonly socket: IoSocket | null,
  ) {}

  get log(): Logger {
    return (this.callLog ??= this.ownLog ? this.parentLog : this.parentLog.child({ requestId: this.requestId }));
  }

  get bindSocket(): ((session: SocketSession) => void) | null {
    const socket = this.socket;
    return socket ? (session) => this.deps.sessions.bind(socket, session) : null;
  }

  query<T = Record<string, unknown>>(statement: Sql): Promise<T[]> {
    return this.deps.db.query<T>(statement);
  }

  tx<T>(fn: (ctx: TxCtx) => Promise<T>): Promise<T> {
    return this.deps.db.tx(async (tx) => {
      // A write is where an ended session could do harm on a node that has not dropped it yet. The check goes in one
      // round trip with the work's first statements: a session that has ended fails its check, the database skips
      // what was sent behind it, and whatever `fn` makes of that, the check's refusal is the answer.
      const bound = new TxCallCtx(this, tx);
      const live = this.deps.sessions.assertLive(bound);
      live.catch(() => undefined); // awaited below, whichever way `fn` ends
      let result: T;
      try {
        result = await fn(bound);
      } catch (err) {
        await live;
        throw err;
      }
      await live;
      return result;
    });
  }

  txAfter<T, R>(opening: Sql, fn: (ctx: TxCtx, rows: R[]) => Promise<T>): Promise<T> {
    return this.deps.db.tx(async (tx) => {
      const bound = new TxCallCtx(this, tx);
      // Sent together; a session that has ended fails its check, so the database skips `opening` and that is the answer.
      const live = this.deps.sessions.assertLive(bound);
      const rows = bound.query<R>(opening);
      rows.catch(() => undefined); // awaited below, unless the check failed
      await live;
      return fn(bound, await rows);
    });
  }
}

/** A call's context bound to an open transaction: its statements run in it, and so do nested `tx` calls. */
class TxCallCtx extends CallCtx implements TxCtx {
  readonly afterCommit: Tx['afterCommit'];
  readonly hold: Tx['hold'];
  readonly atCommit: Tx['atCommit'];
  readonly rerun: boolean;
  readonly carried: Tx['carried'];

  constructor(
    private readonly outer: CallCtx,
    private readonly open: Tx,
  ) {
    super(outer.requestId, outer.actor, outer.socketId, outer.clientAddress, outer.deps, outer.deps.log, true, null);
    this.afterCommit = open.afterCommit;
    this.hold = open.hold;
    this.atCommit = open.atCommit;
    this.rerun = open.rerun;
    this.carried = open.carried;
  }

  /** The outer call's, made once for both. */
  override get log(): Logger {
    return this.outer.log;
  }

  /** The outer call's: it binds the same socket. */
  override get bindSocket(): ((session: SocketSession) => void) | null {
    return this.outer.bindSocket;
  }

  override query<T = Record<string, unknown>>(statement: Sql): Promise<T[]> {
    return this.open.query<T>(statement);
  }

  override tx<T>(fn: (ctx: TxCtx) => Promise<T>): Promise<T> {
    return fn(this);
  }

  override async txAfter<T, R>(opening: Sql, fn: (ctx: TxCtx, rows: R[]) => Promise<T>): Promise<T> {
    return fn(this, await this.query<R>(opening));
  }
}

/** The context of a call from `socket` (after the address and session checks): its logger is a child of `log` made on first use. */
export function socketCtx(requestId: string, actor: Actor | null, socket: IoSocket, clientAddress: string | null, deps: Deps, log: Logger): Ctx {
  return new CallCtx(requestId, actor, socket.id, clientAddress, deps, log, false, socket);
}

export function createCtx(base: CtxBase): Ctx {
  return new CallCtx(base.requestId, base.actor, base.socketId, base.clientAddress, base.deps, base.log, true, null);
}

/** The actor, or UNAUTHENTICATED: for services whose events are never public. */
export function actorOf(ctx: Ctx): Actor {
  if (!ctx.actor) throw new AppError('UNAUTHENTICATED', 'sign in first');
  return ctx.actor;
}
