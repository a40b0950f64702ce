import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { call, type LiliumSocket } from './client.js';
import { RpcError } from './errors.js';
import { FeedCursor } from './feed-cursor.js';
import { pushes, type Envelope, type EventName, type InputOf, type PushName, type PushPayloadOf, type ResultOf } from './index.js';

/** What an app keeps (and persists) to stay signed in. */
export interface Tokens {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires, in ms since the epoch. Unknown: the client learns it from `auth:expired`. */
  expiresAt?: number;
}

/** The tokens of an `auth:login` or `auth:refresh` answer, with the expiry on this device's clock. */
export function tokensFrom(pair: { accessToken: string; refreshToken: string; expiresIn: number }, now = Date.now()): Tokens {
  return { accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresAt: now + pair.expiresIn * 1000 };
}

/** The app's push handlers, typed as on a `LiliumSocket`: stored pushes get their envelope, live-only ones their data. */
export type PushHandlers = { [P in PushName]?: (payload: PushPayloadOf<P>) => void };

/**
 * `syncing`: connected and fetching what was missed (live pushes wait); `live`: caught up;
 * `offline`: waiting to reconnect; `signedOut`: the session is over, sign in again; `closed`: by the app.
 */
export type LiveState = 'offline' | 'syncing' | 'live' | 'signedOut' | 'closed';

export interface LiveClientOptions {
  url: string;
  tokens: Tokens;
  /** The last seq the app applied (persist `client.lastSeq`). Left out: start from now, without the backlog the server keeps. */
  lastSeq?: number;
  handlers: PushHandlers;
  /** Called with each new pair after a refresh; persist them, the old refresh token is spent. */
  onTokens?: (tokens: Tokens) => void;
  /** The session has ended (logged out, revoked, refresh token refused): sign in again. */
  onSignedOut?: (error: RpcError) => void;
  onState?: (state: LiveState) => void;
  /** A handler threw, or a step failed and will be tried again. */
  onError?: (error: unknown) => void;
  /** socket.io-client options (`auth` and `autoConnect` are the client's own). Default transport: WebSocket. */
  io?: Partial<Omit<ManagerOptions & SocketOptions, 'auth' | 'autoConnect'>>;
  /** Refresh this long before the access token expires, at most half its remaining life. Default 60 s. */
  refreshBeforeMs?: number;
  /** Events per `feed:sync` page. Default 500. */
  syncPageSize?: number;
  /** Default 10 s. */
  callTimeoutMs?: number;
}

/** How much earlier than our own estimate the server may see a token expire (whole-second expiry, latency). */
const EXPIRY_MARGIN_MS = 2_000;

const isStored = (event: string): boolean => (pushes as Record<string, { stored: boolean } | undefined>)[event]?.stored === true;
const isEnvelope = (payload: unknown): payload is Envelope<unknown> =>
  typeof payload === 'object' && payload !== null && typeof (payload as { seq?: unknown }).seq === 'number';

/**
 * One authenticated Socket.IO connection that stays right across drops, restarts and token expiry:
 * - connects with the access token in the handshake, or, when it has expired, without one and
 *   authenticates the socket with `auth:refresh` straight after connecting;
 * - refreshes before the token expires and on `auth:expired`, handing the new pair to `onTokens`;
 * - reconnects after any drop, also those socket.io does not retry by itself (`server:shutdown`,
 *   a server-side disconnect, a refused handshake), waiting the delay the server asked for;
 * - after every (re)connection pages `feed:sync` from the last seq it handed on, and gives each
 *   stored push to its handler once and in seq order (see FeedCursor); live-only pushes pass through.
 *
 * Refresh tokens rotate and a second use of a spent one ends the session, so a refresh is never
 * sent twice at once nor queued while offline. One whose answer is lost in a drop cannot be told
 * from one never received: the next attempt then ends the session and `onSignedOut` is called.
 */
export class LiveClient {
  readonly socket: LiliumSocket;
  private current: Tokens;
  /** The server said the access token is no good (`auth:expired`, a refused handshake). */
  private expired = false;
  /** Whether this connection's handshake carried the token. */
  private sentToken = false;
  private status: LiveState = 'offline';
  private readonly cursor: FeedCursor<Envelope<unknown>>;
  /** Counts connections, so work begun for one that has ended stops. */
  private connection = 0;
  private refreshing: Promise<void> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retries = 0;
  /** From `server:shutdown`: do not come back before. */
  private notBefore = 0;

  constructor(private readonly options: LiveClientOptions) {
    this.current = { ...options.tokens };
    this.cursor = new FeedCursor(options.lastSeq, (push) => this.deliver(push.event, push));
    this.socket = io(options.url, {
      transports: ['websocket'],
      ...options.io,
      autoConnect: false,
      // Asked again at every (re)connection, so it always offers the current token.
      auth: (cb) => {
        this.sentToken = this.fresh();
        cb(this.sentToken ? { token: this.current.accessToken } : {});
      },
    }) as LiliumSocket;
    const socket = this.socket as Socket;
    socket.on('connect', () => void this.onConnect());
    socket.on('disconnect', () => this.onDisconnect());
    socket.on('connect_error', (err) => this.onConnectError(err));
    socket.onAny((event: string, payload: unknown) => this.onPush(event, payload));
    socket.connect();
  }

  get state(): LiveState {
    return this.status;
  }

  /** The last stored push's seq handed to the handlers (or covered by a sync): persist it and start from it. */
  get lastSeq(): number | undefined {
    return this.cursor.lastSeq;
  }

  get tokens(): Tokens {
    return { ...this.current };
  }

  /**
   * `call()` on this client's socket. A call refused because the access token ran out between two
   * refreshes (it did not run) is tried once more after a refresh.
   */
  async call<E extends EventName>(event: E, input: InputOf<E>, options: { timeoutMs?: number } = {}): Promise<ResultOf<E>> {
    const timeoutMs = options.timeoutMs ?? this.options.callTimeoutMs;
    if (this.refreshing) await this.refreshing.catch(() => undefined);
    try {
      return await call(this.socket, event, input, { timeoutMs });
    } catch (err) {
      if (!(err instanceof RpcError) || err.code !== 'UNAUTHENTICATED' || this.fresh()) throw err;
      await this.refresh();
      return call(this.socket, event, input, { timeoutMs });
    }
  }

  close(): void {
    this.stop('closed');
  }

  private async onConnect(): Promise<void> {
    const connection = ++this.connection;
    this.cursor.beginSync();
    this.setState('syncing');
    try {
      if (!this.sentToken) await this.refresh();
      this.scheduleRefresh();
      for (;;) {
        const page = await this.call('feed:sync', { afterSeq: this.cursor.afterSeq, limit: this.options.syncPageSize ?? 500 });
        if (connection !== this.connection) return;
        this.cursor.page(page.events, page.lastSeq);
        if (!page.hasMore) break;
      }
      this.cursor.endSync();
      this.retries = 0;
      this.setState('live');
    } catch (err) {
      if (connection !== this.connection || this.ended()) return;
      this.report(err);
      // Connected but not caught up (a call timed out, the node is in trouble): start again on a new connection.
      this.socket.disconnect();
    }
  }

  private onDisconnect(): void {
    this.connection++;
    clearTimeout(this.refreshTimer);
    if (this.ended()) return;
    this.setState('offline');
    // After a server-side disconnect (or our own) socket.io does not reconnect by itself.
    if (!this.socket.active) this.reconnectLater();
  }

  private onConnectError(err: Error): void {
    const code = (err as Error & { data?: { code?: unknown } }).data?.code;
    // The token was refused: the next attempt connects without it and refreshes.
    if (code === 'UNAUTHENTICATED') this.expired = true;
    // A refused handshake is not retried by socket.io; a node out of reach is.
    if (!this.socket.active && !this.ended()) this.reconnectLater(code === 'UNAUTHENTICATED' ? 0 : undefined);
  }

  private onPush(event: string, payload: unknown): void {
    if (event === 'auth:expired') {
      this.expired = true;
      this.refresh().catch((err: unknown) => this.report(err));
    }
    if (event === 'server:shutdown') this.notBefore = Date.now() + ((payload as { reconnectInMs?: number }).reconnectInMs ?? 0);
    if (isStored(event) && isEnvelope(payload)) this.cursor.live(payload);
    else this.deliver(event, payload);
  }

  private reconnectLater(delayMs?: number): void {
    const { reconnectionDelay = 1000, reconnectionDelayMax = 5000 } = this.options.io ?? {};
    const backoff = Math.min(reconnectionDelayMax, reconnectionDelay * 2 ** this.retries++);
    const wait = Math.max(delayMs ?? backoff, this.notBefore - Date.now());
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.ended() && !this.socket.active) this.socket.connect();
    }, wait);
  }

  private fresh(): boolean {
    const { expiresAt } = this.current;
    return !this.expired && (expiresAt === undefined || expiresAt - EXPIRY_MARGIN_MS > Date.now());
  }

  /** One refresh at a time: everyone who needs one waits for the one in flight. */
  private refresh(): Promise<void> {
    this.refreshing ??= this.rotate().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async rotate(): Promise<void> {
    // Never queued while offline: socket.io would send it on the next connection, beside the one that connection makes.
    if (!this.socket.connected) throw new RpcError({ code: 'UNAVAILABLE', message: 'auth:refresh: not connected' });
    try {
      const pair = await call(this.socket, 'auth:refresh', { refreshToken: this.current.refreshToken }, { timeoutMs: this.options.callTimeoutMs });
      this.current = tokensFrom(pair);
      this.expired = false;
      this.scheduleRefresh();
      this.options.onTokens?.(this.tokens);
    } catch (err) {
      if (err instanceof RpcError && err.code === 'UNAUTHENTICATED') this.signOut(err);
      throw err;
    }
  }

  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    const { expiresAt } = this.current;
    if (expiresAt === undefined || !this.socket.connected) return;
    const left = expiresAt - Date.now();
    const wait = Math.max(0, left - Math.min(this.options.refreshBeforeMs ?? 60_000, left / 2));
    this.refreshTimer = setTimeout(() => this.refresh().catch((err: unknown) => this.report(err)), wait);
  }

  private deliver(event: string, payload: unknown): void {
    const handler = (this.options.handlers as Record<string, ((payload: unknown) => void) | undefined>)[event];
    try {
      handler?.(payload);
    } catch (err) {
      this.report(err);
    }
  }

  private signOut(err: RpcError): void {
    if (this.ended()) return;
    this.stop('signedOut');
    this.options.onSignedOut?.(err);
  }

  private stop(state: 'signedOut' | 'closed'): void {
    this.setState(state);
    clearTimeout(this.refreshTimer);
    clearTimeout(this.retryTimer);
    this.socket.disconnect();
  }

  private ended(): boolean {
    return this.status === 'signedOut' || this.status === 'closed';
  }

  private setState(state: LiveState): void {
    if (this.status === state) return;
    this.status = state;
    this.options.onState?.(state);
  }

  private report(err: unknown): void {
    this.options.onError?.(err);
  }
}

export const createLiveClient = (options: LiveClientOptions): LiveClient => new LiveClient(options);
