import type { Deps, IoSocket } from '../deps.js';
import type { SocketSession } from './actor.js';
import type { Actor } from './actor.js';
import { loadActor, rooms, roomsOf } from './actor.js';
import { verifyAccessToken } from './tokens.js';

function clearTimers(socket: IoSocket): void {
  clearTimeout(socket.data.expiryTimer);
  clearTimeout(socket.data.graceTimer);
  socket.data.expiryTimer = undefined;
  socket.data.graceTimer = undefined;
}

/**
 * Puts the socket in exactly the rooms of its (new) session, and keeps a long-lived socket honest:
 * when the token expires it gets `auth:expired` and has `graceMs` to refresh before it is dropped.
 */
export function bindSession(socket: IoSocket, session: SocketSession, graceMs: number): void {
  const first = socket.data.session === undefined;
  clearTimers(socket);
  socket.data.session = session;
  joinRoomsOf(socket, session.actor);
  socket.data.expiryTimer = setTimeout(
    () => {
      socket.emit('auth:expired', {});
      socket.data.graceTimer = setTimeout(() => socket.disconnect(true), graceMs).unref();
    },
    Math.max(0, session.expiresAt - Date.now()),
  ).unref();
  if (first) socket.once('disconnect', () => clearTimers(socket));
}

export function joinRoomsOf(socket: IoSocket, actor: Actor): void {
  for (const room of socket.rooms) if (room !== socket.id) socket.leave(room);
  socket.join(roomsOf(actor));
}

const USER_CHANGED = 'lilium:user-changed';

/**
 * After a change to what a user may reach (vendor, zones), every socket of theirs on every node
 * reloads its actor and rooms at once, instead of keeping the old reach until the token is refreshed.
 */
export function refreshUserSockets(deps: Deps, userId: string): void {
  void rebindLocal(deps, userId);
  if (deps.redis) deps.io.serverSideEmit(USER_CHANGED, userId);
}

export function listenForUserChanges(deps: Deps): void {
  deps.io.on(USER_CHANGED, (userId: string) => void rebindLocal(deps, userId));
}

async function rebindLocal(deps: Deps, userId: string): Promise<void> {
  const ids = [...(deps.io.of('/').adapter.rooms.get(rooms.user(userId)) ?? [])];
  for (const id of ids) {
    const socket = deps.io.of('/').sockets.get(id);
    const session = socket?.data.session;
    if (!socket || !session) continue;
    try {
      const actor = await loadActor(deps.db, userId, session.actor.sessionId);
      if (socket.data.session !== session) continue; // re-authenticated meanwhile, with a fresh actor
      if (!actor) {
        socket.disconnect(true);
        continue;
      }
      socket.data.session = { ...session, actor };
      joinRoomsOf(socket, actor);
    } catch (err) {
      deps.log.warn({ err, userId }, 'could not refresh a socket after a user change');
    }
  }
}

/** Verifies an access token and loads its actor; null when the token or its session is no good. */
export async function sessionFromToken(deps: Deps, token: string): Promise<SocketSession | null> {
  const claims = verifyAccessToken(deps.config, token);
  if (!claims) return null;
  const actor = await loadActor(deps.db, claims.sub, claims.sid);
  return actor ? { actor, expiresAt: claims.exp * 1000 } : null;
}

const refusal = (code: string, message: string) => Object.assign(new Error(code), { data: { code, message } });

/** A token in the handshake authenticates the socket; a bad one refuses the connection. Without one the socket may only log in. */
export function handshakeAuth(deps: Deps) {
  return (socket: IoSocket, next: (err?: Error) => void) => {
    const token: unknown = socket.handshake.auth?.token;
    if (token === undefined || token === null || token === '') return next();
    if (typeof token !== 'string') return next(refusal('UNAUTHENTICATED', 'auth.token must be a string'));
    sessionFromToken(deps, token).then(
      (session) => {
        if (!session) return next(refusal('UNAUTHENTICATED', 'invalid or expired token'));
        bindSession(socket, session, deps.config.jwt.graceS * 1000);
        next();
      },
      (err: unknown) => {
        deps.log.error({ err }, 'handshake authentication failed');
        next(refusal('UNAVAILABLE', 'try again'));
      },
    );
  };
}
