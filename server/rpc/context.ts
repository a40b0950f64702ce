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
 * `base`'s properties and `own` on a new object. Named one by one, not spread: spreading would read `log`, and a
 * call's logger is made only if the call logs.
 */
const withBase = <T extends object>(base: CtxBase, own: T): CtxBase & T => ({
  requestId: base.requestId,
  actor: base.actor,
  socketId: base.socketId,
  clientAddress: base.clientAddress,
  deps: base.deps,
  get log() {
    return base.log;
  },
  bindSocket: base.bindSocket,
  ...own,
});

export function createCtx(base: CtxBase, open?: Tx): Ctx {
  const { db } = base.deps;
  if (open) {
    const bound: TxCtx = withBase(base, {
      manager: open.manager,
      query: open.query,
      afterCommit: open.afterCommit,
      tx: <T>(fn: (ctx: TxCtx) => Promise<T>) => fn(bound),
    });
    return bound;
  }
  return withBase(base, {
    query: <T>(statement: Sql) => db.query<T>(statement),
    tx: <T>(fn: (ctx: TxCtx) => Promise<T>) =>
      db.tx(async (tx) => {
        // A write is where an ended session could do harm on a node that has not dropped it yet.
        const bound = createCtx(base, tx) as TxCtx;
        await base.deps.sessions.assertLive(bound);
        return fn(bound);
      }),
  });
}

/** The actor, or UNAUTHENTICATED: for services whose events are never public. */
export function actorOf(ctx: Ctx): Actor {
  if (!ctx.actor) throw new AppError('UNAUTHENTICATED', 'sign in first');
  return ctx.actor;
}
