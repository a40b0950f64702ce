import type { Deps, IoSocket, SessionCaller } from '../deps.js';
import { AppError, sessionEnded as endedError } from '../errors.js';
import type { Actor, SocketSession } from './actor.js';
import { sql } from '../../db/sql.js';
import { isRefusal, REFUSALS, unlessRefused } from '../db-errors.js';
import { loadActors } from './actor.js';
import { joinRoomsOf } from './session.js';

/**
 * A session ended on one node (logout, revocation, account disabled, deleted or given another role)
 * is announced to the others through Redis, which may be down or lose the message. The database is
 * the truth: each node re-reads the sessions of all its sockets every SESSION_CHECK_S in one query,
 * and every write re-checks its caller's session first, so an ended session neither acts nor keeps
 * listening for longer than that, whatever Redis does.
 */

/** Starts this node's periodic check; returns what stops it. */
export function startSessionChecks(deps: Deps): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return; // a slow database: never two checks at once
    running = true;
    checkSessions(deps)
      .catch((err: unknown) => deps.log.warn({ err }, 'session check failed'))
      .finally(() => (running = false));
  }, deps.config.jwt.sessionCheckS * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/** Drops this node's sockets whose session ended and moves those whose reach changed, in one query. */
export async function checkSessions(deps: Deps): Promise<void> {
  const bound: Array<[IoSocket, SocketSession]> = [];
  for (const socket of deps.io.of('/').sockets.values()) {
    const session = socket.data.session;
    if (session && !socket.data.ended) bound.push([socket, session]);
  }
  if (bound.length === 0) return;
  const sessionIds = [...new Set(bound.map(([, s]) => s.actor.sessionId))];
  const actors = await loadActors(deps.db, sessionIds);
  for (const [socket, session] of bound) {
    if (socket.data.session !== session || socket.disconnected) continue; // re-authenticated or gone meanwhile
    const actor = actors.get(session.actor.sessionId);
    // A role change revokes the sessions; checking it here too keeps a missed revocation from widening access.
    if (!actor || actor.role !== session.actor.role) socket.disconnect(true);
    else if (!sameReach(actor, session.actor)) {
      socket.data.session = { ...session, actor };
      joinRoomsOf(socket, actor);
    }
  }
}

const sameReach = (a: Actor, b: Actor) => a.userId === b.userId && a.vendorId === b.vendorId && a.shopId === b.shopId && a.zoneIds.join() === b.zoneIds.join();

/**
 * UNAUTHENTICATED, and the socket dropped, when the caller's session has ended since it was bound. The statement
 * fails rather than answering no row, so in a transaction the statements sent behind it never run.
 */
export async function assertSessionLive(ctx: SessionCaller): Promise<void> {
  const { actor } = ctx;
  if (!actor) return;
  const live = sql`EXISTS (SELECT 1 FROM sessions se JOIN users u ON u.id = se.user_id
     WHERE se.id = ${actor.sessionId} AND se.revoked_at IS NULL AND u.status = 'ACTIVE' AND u.deleted_at IS NULL)`;
  try {
    await ctx.query(sql`SELECT ${unlessRefused(live, REFUSALS.sessionEnded)}`.prepared());
  } catch (err) {
    if (!isRefusal(err, REFUSALS.sessionEnded)) throw err;
    // Refused from now on; the RPC layer drops the socket once this call is answered.
    const socket = ctx.socketId ? ctx.deps.io.of('/').sockets.get(ctx.socketId) : undefined;
    if (socket) socket.data.ended = true;
    throw endedError();
  }
}

/** For a call that failed unexpectedly: whether its caller's session is gone, which is then the cause to report. */
export async function hasSessionEnded(deps: Deps, socketId: string, actor: Actor): Promise<boolean> {
  try {
    await assertSessionLive({ deps, socketId, actor, query: (statement) => deps.db.query(statement) });
    return false;
  } catch (err) {
    return err instanceof AppError;
  }
}
