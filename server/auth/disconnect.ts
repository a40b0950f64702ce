import type { Deps } from '../deps.js';

/**
 * Disconnects every socket in these rooms on every node (through the adapter). Deferred a tick so
 * the ack of the call that caused it leaves first when the caller is among them.
 */
export function disconnectRooms(deps: Pick<Deps, 'io' | 'log'>, rooms: string[]): void {
  if (rooms.length === 0) return;
  setImmediate(() => {
    try {
      deps.io.in(rooms).disconnectSockets(true);
    } catch (err) {
      deps.log.warn({ err, rooms }, 'could not disconnect sockets');
    }
  });
}
