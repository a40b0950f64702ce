import type { Role } from '../../protocol/common.js';
import { queryRows, type Tx } from '../../db/tx.js';
import { assertSessionLive } from '../auth/session-check.js';
import type { Deps, SocketSession } from '../deps.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';

/** Who is calling, as loaded from the database when the socket authenticated. */
export interface Actor {
  userId: string;
  role: Role;
  sessionId: string;
  vendorId: string | null;
  shopId: string | null;
  zoneIds: string[];
}

/** What reads need: a query inside the caller's transaction when there is one. */
export type Reader = Pick<Tx, 'manager' | 'query'>;

export interface Ctx {
  readonly requestId: string;
  readonly actor: Actor | null;
  readonly socketId: string | null;
  readonly clientAddress: string | null;
  readonly deps: Deps;
  readonly log: Logger;
  /** Authenticates the calling socket in place (login, refresh); null outside a socket call. */
  readonly bindSocket: ((session: SocketSession) => void) | null;
  /** Runs `fn` in the caller's transaction, or in a new one. */
  tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs `fn` inside the caller's transaction when there is one; otherwise outside any. */
  read<T>(fn: (r: Reader) => Promise<T>): Promise<T>;
}

export function createCtx(base: Omit<Ctx, 'tx' | 'read'>, open?: Tx): Ctx {
  const { db } = base.deps;
  return {
    ...base,
    tx: (fn) =>
      open
        ? fn(open)
        : db.tx(async (tx) => {
            // A write is where an ended session could do harm on a node that has not dropped it yet.
            if (base.actor) await assertSessionLive(base, tx, base.actor);
            return fn(tx);
          }),
    read: (fn) => (open ? fn(open) : db.read((manager) => fn({ manager, query: (sql, params) => queryRows(manager, sql, params) }))),
  };
}

/** The actor, or UNAUTHENTICATED: for services whose events are never public. */
export function actorOf(ctx: Ctx): Actor {
  if (!ctx.actor) throw new AppError('UNAUTHENTICATED', 'sign in first');
  return ctx.actor;
}
