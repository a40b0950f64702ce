import type { Deps, IoSocket, SocketSession } from '../deps.js';
import { loadActor, roomsOf } from './actor.js';
import { verifyAccessToken } from './tokens.js';

/** Puts the socket in exactly the rooms of its (new) session. */
export function bindSession(socket: IoSocket, session: SocketSession): void {
  for (const room of socket.rooms) if (room !== socket.id) socket.leave(room);
  clearTimeout(socket.data.graceTimer);
  socket.data.graceTimer = undefined;
  socket.data.session = session;
  socket.join(roomsOf(session.actor));
}

/** Verifies an access token and loads its actor; null when the token or its session is no good. */
export async function sessionFromToken(deps: Deps, token: string): Promise<SocketSession | null> {
  const claims = verifyAccessToken(deps.config, token);
  if (!claims) return null;
  const actor = await deps.db.read((manager) => loadActor({ manager, query: (sql, p) => manager.query(sql, p) }, claims.sub, claims.sid));
  return actor ? { actor, expiresAt: claims.exp * 1000 } : null;
}

/** A token in the handshake authenticates the socket; a bad one refuses the connection. Without one the socket may only log in. */
export function handshakeAuth(deps: Deps) {
  return (socket: IoSocket, next: (err?: Error) => void) => {
    const token: unknown = socket.handshake.auth?.token;
    if (token === undefined || token === null || token === '') return next();
    if (typeof token !== 'string')
      return next(Object.assign(new Error('UNAUTHENTICATED'), { data: { code: 'UNAUTHENTICATED', message: 'auth.token must be a string' } }));
    sessionFromToken(deps, token).then(
      (session) => {
        if (!session) return next(Object.assign(new Error('UNAUTHENTICATED'), { data: { code: 'UNAUTHENTICATED', message: 'invalid or expired token' } }));
        bindSession(socket, session);
        next();
      },
      (err: unknown) => {
        deps.log.error({ err }, 'handshake authentication failed');
        next(Object.assign(new Error('UNAVAILABLE'), { data: { code: 'UNAVAILABLE', message: 'try again' } }));
      },
    );
  };
}
