import type { IoSocket } from '../deps.js';

/**
 * When each bound socket's access token expires, it gets `auth:expired` and has the grace to refresh before it is
 * dropped. Sockets are grouped by the second their token expires in, with one timer per such second rather than
 * one per socket: at most one timer a second of the token's lifetime, however many sockets a node holds (a warning
 * comes at most a second late; calls are refused from the exact expiry on, in the RPC layer). One `disconnect`
 * listener, shared by every socket, forgets a socket that goes.
 */
export class TokenExpiry {
  private readonly bySecond = new Map<number, { timer: NodeJS.Timeout; sockets: Set<IoSocket> }>();
  private readonly gone: (this: IoSocket) => void;

  constructor(private readonly graceMs: number) {
    const expiry = this;
    this.gone = function (this: IoSocket) {
      expiry.forget(this);
    };
  }

  /** Called with the socket's new session already in `socket.data`, and the one it replaces. */
  watch(socket: IoSocket, expiresAt: number, previous: number | undefined): void {
    if (previous === undefined) socket.on('disconnect', this.gone);
    else this.leave(socket, previous);
    const second = Math.ceil(expiresAt / 1000);
    let group = this.bySecond.get(second);
    if (!group) {
      group = { timer: setTimeout(() => this.expire(second), Math.max(0, second * 1000 - Date.now())).unref(), sockets: new Set() };
      this.bySecond.set(second, group);
    }
    group.sockets.add(socket);
  }

  private forget(socket: IoSocket): void {
    const session = socket.data.session;
    if (session) this.leave(socket, session.expiresAt);
  }

  /** Out of its second's group, and out of its grace if it was in one (a refresh, or gone). */
  private leave(socket: IoSocket, expiresAt: number): void {
    clearTimeout(socket.data.graceTimer);
    socket.data.graceTimer = undefined;
    const second = Math.ceil(expiresAt / 1000);
    const group = this.bySecond.get(second);
    if (!group?.sockets.delete(socket) || group.sockets.size) return;
    clearTimeout(group.timer);
    this.bySecond.delete(second);
  }

  private expire(second: number): void {
    const group = this.bySecond.get(second);
    this.bySecond.delete(second);
    for (const socket of group?.sockets ?? []) {
      socket.emit('auth:expired', {});
      socket.data.graceTimer = setTimeout(() => socket.disconnect(true), this.graceMs).unref();
    }
  }
}
