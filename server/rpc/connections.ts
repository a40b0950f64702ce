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
  /**
   * Connections none of whose sockets has signed in yet, oldest first, each with its deadline and its sockets. One
   * timer serves them all (deadlines come in the order connections do), and a connection leaves as soon as it signs
   * in with its handshake or its deadline passes: a signed-in socket costs the guard no timer, closure or listener
   * of its own, which at tens of thousands of idle sockets is memory that counts.
   */
  private readonly anonymous = new Map<EngineSocket, { deadline: number; sockets: IoSocket[] }>();
  private timer: NodeJS.Timeout | undefined;

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
    // One listener for every connection, `this` being the connection that closed.
    const guard = this;
    function closed(this: EngineSocket): void {
      guard.release(this);
    }
    io.engine.on('connection', (conn: EngineSocket) => {
      const address = addressOf(conn.request, this.config.trustProxy);
      // Handshakes racing past allowRequest are caught here, once counted.
      const over = this.refusal(address);
      this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1);
      this.total++;
      this.anonymous.set(conn, { deadline: Date.now() + this.config.connections.authTimeoutS * 1000, sockets: [] });
      this.schedule();
      conn.on('close', closed);
      if (over) {
        this.refused.inc({ limit: over.limit });
        conn.close();
      }
    });
    io.on('connection', (socket) => {
      const conn = socket.conn as unknown as EngineSocket;
      const pending = this.anonymous.get(conn);
      if (!pending) return;
      // Signed in by its handshake: the connection is past the check for good.
      if (socket.data.session) this.anonymous.delete(conn);
      else pending.sockets.push(socket);
    });
  }

  /** A connection closed: uncounted (its address read again from the request it keeps) and forgotten. */
  private release(conn: EngineSocket): void {
    this.anonymous.delete(conn);
    this.total--;
    const address = addressOf(conn.request, this.config.trustProxy);
    const left = (this.byAddress.get(address) ?? 1) - 1;
    if (left > 0) this.byAddress.set(address, left);
    else this.byAddress.delete(address);
  }

  /** Arms the one timer for the oldest deadline, unless it is armed or nothing waits. */
  private schedule(): void {
    if (this.timer) return;
    const oldest = this.anonymous.values().next();
    if (oldest.done) return;
    this.timer = setTimeout(() => this.expire(), Math.max(0, oldest.value.deadline - Date.now())).unref();
  }

  private expire(): void {
    this.timer = undefined;
    const now = Date.now();
    for (const [conn, { deadline, sockets }] of this.anonymous) {
      if (deadline > now) break;
      this.anonymous.delete(conn);
      this.closeIfAnonymous(conn, sockets);
    }
    this.schedule();
  }

  private closeIfAnonymous(conn: EngineSocket, sockets: IoSocket[]): void {
    const live = sockets.filter((s) => s.connected);
    if (live.some((s) => s.data.session)) return;
    if (live.length) for (const s of live) s.disconnect(true);
    else conn.close();
  }
}
