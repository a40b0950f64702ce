import type { Deps, IoServer, IoSocket } from '../deps.js';

/**
 * Disconnects every socket in these rooms on every node (through the adapter). Deferred a tick so
 * the ack of the call that caused it leaves first when the caller is among them; this node's sockets
 * are refused at once, so a call already read from one of them cannot act in between.
 */
export function disconnectRooms(deps: Pick<Deps, 'io' | 'log'>, rooms: string[]): void {
  if (rooms.length === 0) return;
  for (const socket of localSocketsIn(deps.io, rooms)) socket.data.ended = true;
  setImmediate(() => {
    try {
      deps.io.in(rooms).disconnectSockets(true);
    } catch (err) {
      deps.log.warn({ err, rooms }, 'could not disconnect sockets');
    }
  });
}

function localSocketsIn(io: IoServer, rooms: string[]): IoSocket[] {
  const nsp = io.of('/');
  const ids = new Set(rooms.flatMap((room) => [...(nsp.adapter.rooms.get(room) ?? [])]));
  return [...ids].flatMap((id) => nsp.sockets.get(id) ?? []);
}
