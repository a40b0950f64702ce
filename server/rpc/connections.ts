import type { IncomingMessage } from 'node:http';
import type { Socket as EngineSocket } from 'engine.io';
import { clientAddressOf } from '../client-address.js';
import type { Config } from '../config.js';
import type { IoServer, IoSocket } from '../deps.js';
import type { CounterHandle, Metrics } from '../metrics.js';

/** The client's address of an engine request, as calls see it. */
const addressOf = (req: IncomingMessage, trustProxy: boolean): string => clientAddressOf(req.headers, req.connection?.remoteAddress, trustProxy) ?? 'unknown';

/**
 * Bounds what one client can hold open: connections per client address and in all, refused in the
 * handshake (engine `allowRequest`, answered 403 with the reason), and no socket may stay without
 * signing in for longer than AUTH_TIMEOUT_S.
 */
export class ConnectionGuard {
  private readonly byAddress = new Map<string, number>();
  private total = 0;
  private readonly refused: CounterHandle;
  /** The Socket.IO sockets riding on each engine connection, to tell whether any signed in. */
  private readonly socketsOf = new WeakMap<EngineSocket, Set<IoSocket>>();

  constructor(
    private readonly config: Pick<Config, 'trustProxy' | 'connections'>,
    metrics: Metrics,
  ) {
    this.refused = metrics.counter(
      'lilium_connections_refused_total',
      "Connections refused by a connection limit: this node's (node) or one address's (address).",
      ['limit'],
    );
  }

  /** For the Server's `allowRequest`: only handshakes come here, never a known session's requests. */
  readonly allowRequest = (req: IncomingMessage, answer: (err: string | null | undefined, success: boolean) => void): void => {
    const why = this.refusal(addressOf(req, this.config.trustProxy));
    if (why) this.refused.inc({ limit: why.limit });
    answer(why?.message, why === null);
  };

  private refusal(address: string): { limit: 'node' | 'address'; message: string } | null {
    const { maxTotal, maxPerAddress } = this.config.connections;
    if (this.total >= maxTotal) return { limit: 'node', message: `this node holds its limit of ${maxTotal} connections; retry later` };
    if ((this.byAddress.get(address) ?? 0) >= maxPerAddress)
      return { limit: 'address', message: `too many connections from this address (limit ${maxPerAddress})` };
    return null;
  }

  /** Counts every engine connection while it lives, and closes those that do not sign in in time. */
  watch(io: IoServer): void {
    io.engine.on('connection', (conn: EngineSocket) => {
      const address = addressOf(conn.request, this.config.trustProxy);
      // Handshakes racing past allowRequest are caught here, once counted.
      const over = this.refusal(address);
      this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1);
      this.total++;
      const timer = setTimeout(() => this.closeIfAnonymous(conn), this.config.connections.authTimeoutS * 1000).unref();
      conn.once('close', () => {
        clearTimeout(timer);
        this.total--;
        const left = (this.byAddress.get(address) ?? 1) - 1;
        if (left > 0) this.byAddress.set(address, left);
        else this.byAddress.delete(address);
      });
      if (over) {
        this.refused.inc({ limit: over.limit });
        conn.close();
      }
    });
    io.on('connection', (socket) => {
      const conn = socket.conn as unknown as EngineSocket;
      const sockets = this.socketsOf.get(conn) ?? new Set<IoSocket>();
      this.socketsOf.set(conn, sockets.add(socket));
      socket.once('disconnect', () => sockets.delete(socket));
    });
  }

  private closeIfAnonymous(conn: EngineSocket): void {
    const sockets = [...(this.socketsOf.get(conn) ?? [])];
    if (sockets.some((s) => s.data.session)) return;
    if (sockets.length) for (const s of sockets) s.disconnect(true);
    else conn.close();
  }
}
