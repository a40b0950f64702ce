import type { Sql } from '../../db/sql.js';
import type { Reader, Tx } from '../../db/tx.js';
import type { Actor, SocketSession } from '../auth/actor.js';
import type { Deps } from '../deps.js';
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
}

/** A context bound to an open transaction: also a `Tx`, so work can wait for its commit (`afterCommit`). */
export interface TxCtx extends Ctx, Tx {}

export type CtxBase = Pick<Ctx, 'requestId' | 'actor' | 'socketId' | 'clientAddress' | 'deps' | 'log' | 'bindSocket'>;

/**
 * A call's context outside a transaction. A class, so that making one per call creates no functions (its methods
 * are on the prototype), and `log` is read from `base` only when used: a call's logger is made only if it logs.
 */
class CallCtx implements Ctx {
  readonly requestId: string;
  readonly actor: Actor | null;
  readonly socketId: string | null;
  readonly clientAddress: string | null;
  readonly deps: Deps;
  readonly bindSocket: ((session: SocketSession) => void) | null;

  constructor(protected readonly base: CtxBase) {
    this.requestId = base.requestId;
    this.actor = base.actor;
    this.socketId = base.socketId;
    this.clientAddress = base.clientAddress;
    this.deps = base.deps;
    this.bindSocket = base.bindSocket;
  }

  get log(): Logger {
    return this.base.log;
  }

  query<T = Record<string, unknown>>(statement: Sql): Promise<T[]> {
    return this.deps.db.query<T>(statement);
  }

  tx<T>(fn: (ctx: TxCtx) => Promise<T>): Promise<T> {
    return this.deps.db.tx(async (tx) => {
      // A write is where an ended session could do harm on a node that has not dropped it yet.
      const bound = new TxCallCtx(this.base, tx);
      await this.deps.sessions.assertLive(bound);
      return fn(bound);
    });
  }
}

/** A call's context bound to an open transaction: its statements run in it, and so do nested `tx` calls. */
class TxCallCtx extends CallCtx implements TxCtx {
  readonly manager: Tx['manager'];
  readonly afterCommit: Tx['afterCommit'];
  readonly hold: Tx['hold'];
  private readonly open: Tx;

  constructor(base: CtxBase, open: Tx) {
    super(base);
    this.open = open;
    this.manager = open.manager;
    this.afterCommit = open.afterCommit;
    this.hold = open.hold;
  }

  override query<T = Record<string, unknown>>(statement: Sql): Promise<T[]> {
    return this.open.query<T>(statement);
  }

  override tx<T>(fn: (ctx: TxCtx) => Promise<T>): Promise<T> {
    return fn(this);
  }
}

export function createCtx(base: CtxBase, open?: Tx): Ctx {
  return open ? new TxCallCtx(base, open) : new CallCtx(base);
}

/** The actor, or UNAUTHENTICATED: for services whose events are never public. */
export function actorOf(ctx: Ctx): Actor {
  if (!ctx.actor) throw new AppError('UNAUTHENTICATED', 'sign in first');
  return ctx.actor;
}
