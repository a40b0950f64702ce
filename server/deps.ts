import type { Redis } from 'ioredis';
import type { ReadCache } from './cache.js';
import type { Server, Socket } from 'socket.io';
import type { Db } from '../db/tx.js';
import type { ClientToServerEvents, NotificationChannel, ServerToClientEvents } from '../protocol/index.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { Reader } from '../db/tx.js';
import type { Actor, SocketSession } from './auth/actor.js';
import type { Jobs } from './jobs/jobs.js';
import type { ChannelProvider } from './notifications/channels/channel.js';

export interface SocketData {
  session?: SocketSession;
  /** Once the access token has expired: drops the socket unless a refresh comes before it fires (auth/expiry.ts). */
  graceTimer?: NodeJS.Timeout;
  /** The session was ended (logout, revocation, account disabled): every call is refused until the socket is dropped. */
  ended?: boolean;
}

/** Between nodes: a user's reach changed, so their sockets reload it. */
interface ServerSideEvents {
  'lilium:user-changed': (userId: string) => void;
}
export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, ServerSideEvents, SocketData>;
export type IoSocket = Socket<ClientToServerEvents, ServerToClientEvents, ServerSideEvents, SocketData>;

/** What the session check needs of a call: who, on which socket, and the way to the database (its transaction, when in one). */
export interface SessionCaller extends Reader {
  deps: Deps;
  socketId: string | null;
  actor: Actor | null;
}

/** What the RPC layer needs from sign-in: provided by auth/, so that rpc/ depends on no domain. */
export interface Sessions {
  /** Authenticates a socket in place with a new session (login, refresh). */
  bind(socket: IoSocket, session: SocketSession): void;
  /** UNAUTHENTICATED, and the socket marked ended, when the caller's session has ended: checked inside every write. */
  assertLive(ctx: SessionCaller): Promise<void>;
  /** After an unexpected failure: whether the caller's session had ended, which is then the cause to report. */
  ended(socketId: string, actor: Actor): Promise<boolean>;
}

/** What the server is built from; created once in `createApp` and carried by every call's context. */
export interface Deps {
  config: Config;
  db: Db;
  log: Logger;
  metrics: Metrics;
  io: IoServer;
  redis: Redis | null;
  cache: ReadCache;
  /** The durable job queue (pg-boss): work that must happen once across all nodes, survive restarts, and retry. */
  jobs: Jobs;
  /**
   * Numbers and publishes committed pushes; kicked after each commit that wrote one. `origin` names this node in the
   * NOTIFY that wakes the others, so its own sequencer, kicked directly, does not take the same commit twice.
   */
  sequencer: { kick(): void; readonly origin: string };
  sessions: Sessions;
  /** How messages reach people who are not connected: one provider per delivery channel. */
  channels: Record<NotificationChannel, ChannelProvider>;
}
