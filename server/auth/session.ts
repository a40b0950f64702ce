import type { Deps, IoSocket } from '../deps.js';
import type { SocketSession } from './actor.js';
import type { Actor } from './actor.js';
import { loadActor, rooms, roomsOf } from './actor.js';
import type { TokenExpiry } from './expiry.js';
import { verifyAccessToken } from './tokens.js';

/**
 * Puts the socket in exactly the rooms of its (new) session, and keeps a long-lived socket honest:
 * when the token expires it gets `auth:expired` and has the grace to refresh before it is dropped.
 */
export function bindSession(socket: IoSocket, session: SocketSession, expiry: TokenExpiry): void {
  if (gone(socket)) return;
  const previous = socket.data.session?.expiresAt;
  socket.data.session = session;
  joinRoomsOf(socket, session.actor);
  expiry.watch(socket, session.expiresAt, previous);
}

/**
 * The client may leave while its session loads (a handshake, a refresh): its uWebSockets.js socket is then closed,
 * and joining or leaving a room on it throws, which would take the whole node down.
 */
const gone = (socket: IoSocket) => socket.conn.readyState !== 'open';

export function joinRoomsOf(socket: IoSocket, actor: Actor): void {
  if (gone(socket)) return;
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
    const { token, ...rest }: { token?: unknown } = socket.handshake.auth ?? {};
    // The bearer token is not kept past its check: nothing reads it again (and at 10k sockets it is 3 MiB).
    socket.handshake.auth = rest;
    if (token === undefined || token === null || token === '') return next();
    if (typeof token !== 'string') return next(refusal('UNAUTHENTICATED', 'auth.token must be a string'));
    sessionFromToken(deps, token).then(
      (session) => {
        if (!session) return next(refusal('UNAUTHENTICATED', 'invalid or expired token'));
        deps.sessions.bind(socket, session);
        next();
      },
      (err: unknown) => {
        deps.log.error({ err }, 'handshake authentication failed');
        next(refusal('UNAVAILABLE', 'try again'));
      },
    );
  };
}
