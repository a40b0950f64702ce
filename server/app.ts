import { createAdapter } from '@socket.io/redis-adapter';
import { Server } from 'socket.io';
import type { Redis } from 'ioredis';
import type { us_listen_socket } from 'uWebSockets.js';
import { createDataSource } from '../db/data-source.js';
import { Db } from '../db/tx.js';
import { TokenExpiry } from './auth/expiry.js';
import { startSessionChecks } from './auth/session-check.js';
import { assertSessionLive, hasSessionEnded } from './auth/session-check.js';
import { bindSession, handshakeAuth, listenForUserChanges } from './auth/session.js';
import type { Config } from './config.js';
import type { Deps, IoServer } from './deps.js';
import { mountFiles } from './http/files.js';
import { mountHttpRoutes, mountNotFound } from './http/routes.js';
import { loadNativeUws } from './http/uws.js';
import { createLogger, withSafeErrors, type Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { handlers, workers } from './modules.js';
import { PgBossJobs } from './jobs/jobs.js';
import type { NotificationChannel } from '../protocol/notifications.js';
import type { ChannelProvider } from './notifications/channels/channel.js';
import { createChannels } from './notifications/channels/index.js';
import { startDeadlines } from './orders/deadlines.js';
import { Sequencer } from './outbox/sequencer.js';
import { prepareDatabase } from './startup.js';
import { sweepOrphans } from './uploads/uploads.service.js';
import { ReadCache } from './cache.js';
import { connectRedis, countPublishFailures } from './redis.js';
import { sweepIdempotencyKeys } from './rpc/idempotency.js';
import { ConnectionGuard } from './rpc/connections.js';
import { Inflight, mount } from './rpc/mount.js';
import type { Registration } from './rpc/rpc.js';

export interface App {
  port: number;
  url: string;
  deps: Deps;
  seeded: boolean;
  /** Drains and closes: stop accepting, tell clients, finish calls in flight, close everything. */
  close(): Promise<void>;
}

export interface AppOptions {
  log?: Logger;
  /** Extra handlers beside the protocol's (tests use this for instrumented events). */
  extraHandlers?: Registration[];
  /** Providers to use instead of the configured ones (tests: a stand-in for an outside service). */
  channels?: Partial<Record<NotificationChannel, ChannelProvider>>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const log = withSafeErrors(options.log ?? createLogger(config.logLevel));
  const uws = loadNativeUws();
  const metrics = new Metrics();

  const source = createDataSource(config.database);
  await source.initialize();
  const db = new Db(source, config.database.kind, (err) => log.error({ err }, 'after-commit hook failed'));
  let seeded: boolean;
  let channels: Deps['channels'];
  try {
    // Tests put local peers in place of a channel's provider.
    channels = { ...createChannels({ config, db, log }), ...options.channels };
    const prepared = await prepareDatabase(config, source, db, log);
    seeded = prepared.seeded;
    // From here on every part of the node signs and verifies with the secret the database settled on.
    config = { ...config, jwt: { ...config.jwt, secret: prepared.jwtSecret } };
  } catch (err) {
    await source.destroy().catch(() => undefined);
    throw err;
  }

  let pub: Redis | null = null;
  let sub: Redis | null = null;
  if (config.redis) {
    pub = await connectRedis(config.redis.url, log, 'lilium-pub', true);
    sub = await connectRedis(config.redis.url, log, 'lilium-sub');
  }
  const publishFailures = metrics.counter('lilium_redis_publish_failures_total', 'Cross-node pushes Redis refused (clients recover them with feed:sync).', []);
  if (pub) countPublishFailures(pub, () => publishFailures.inc({}));

  const connections = new ConnectionGuard(config, metrics);
  const io: IoServer = new Server({
    serveClient: false,
    // Tokens travel in the handshake, not in cookies: credentials cross origins only to the configured ones.
    cors:
      config.corsOrigins.length && !config.corsOrigins.includes('*') ? { origin: config.corsOrigins, credentials: true } : { origin: '*', credentials: false },
    allowRequest: connections.allowRequest,
    maxHttpBufferSize: Math.max(1_000_000, config.rpc.maxBytes * 2),
    ...(pub && sub && config.redis ? { adapter: createAdapter(pub, sub, { key: `${config.redis.prefix}#socket.io` }) } : {}),
  });
  const expiry = new TokenExpiry(config.jwt.graceS * 1000);
  const jobs = new PgBossJobs(config.jobs, config.database, db, log, metrics);
  const deps: Deps = {
    config,
    db,
    log,
    metrics,
    io,
    redis: pub,
    cache: new ReadCache(pub, config.redis?.prefix ?? 'lilium'),
    jobs,
    sequencer: {
      kick: () => sequencer.kick(),
      get origin() {
        return sequencer.origin;
      },
    },
    channels,
    sessions: {
      bind: (socket, session) => bindSession(socket, session, expiry),
      assertLive: assertSessionLive,
      ended: (socketId, actor) => hasSessionEnded(deps, socketId, actor),
    },
  };
  const sequencer = new Sequencer(deps, { stockIntervalMs: config.feed.stockIntervalMs, pollMs: 1000 });
  const inflight = new Inflight();

  const http = uws.App();
  mountHttpRoutes(http, deps, () => inflight.draining);
  mountFiles(http, uws, deps);
  io.attachApp(http);
  connections.watch(io);
  mountNotFound(http);

  io.use(handshakeAuth(deps));
  listenForUserChanges(deps);
  const stopSessionChecks = startSessionChecks(deps);
  const unmount = mount(deps, [...handlers, ...(options.extraHandlers ?? [])], inflight);

  metrics.gauge('lilium_connected_sockets', 'Sockets connected to this node.', () => io.engine.clientsCount);
  metrics.gauge('lilium_rpc_in_flight', 'Calls being handled on this node.', () => inflight.size);
  metrics.gauge(
    'lilium_db_pool_connections',
    'Database pool connections by state (idle, busy).',
    () => {
      const { idle, busy } = db.poolStats();
      return { idle, busy };
    },
    'state',
  );
  metrics.gauge('lilium_db_pool_waiting', 'Queries waiting for a database connection.', () => db.poolStats().waiting);

  await sequencer.start();
  await jobs.start();
  for (const start of workers) await start(deps);
  const stopDeadlines = startDeadlines(deps);
  const maintenance = setInterval(() => {
    sweepIdempotencyKeys({ deps }).catch((err: unknown) => log.warn({ err }, 'idempotency sweep failed'));
    sequencer.prune(config.feed.retentionDays).catch((err: unknown) => log.warn({ err }, 'feed prune failed'));
    sweepOrphans(deps).catch((err: unknown) => log.warn({ err }, 'orphan upload sweep failed'));
  }, 3600_000);
  maintenance.unref();

  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    http.listen(config.host, config.port, (token) => (token ? resolve(token) : reject(new Error(`cannot listen on ${config.host}:${config.port}`))));
  });
  const port = uws.us_socket_local_port(listenSocket);

  let closing: Promise<void> | null = null;
  async function close(): Promise<void> {
    inflight.draining = true;
    uws.us_listen_socket_close(listenSocket);
    const reconnectInMs = 1000;
    io.local.emit('server:shutdown', { reconnectInMs });
    // Running jobs wind down while calls in flight finish; a job a call sends in its transaction is still written.
    const jobsStopped = jobs.stop().catch((err: unknown) => log.warn({ err }, 'job queue did not stop cleanly'));
    await Promise.race([inflight.idle(), sleep(config.shutdownGraceMs)]);
    clearInterval(maintenance);
    stopSessionChecks();
    await stopDeadlines();
    unmount();
    await jobsStopped;
    await sequencer.stop();
    io.local.disconnectSockets(true);
    await new Promise<void>((resolve) => io.close(() => resolve()));
    await Promise.all([pub?.quit().catch(() => undefined), sub?.quit().catch(() => undefined)]);
    await source.destroy();
  }

  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  return {
    port,
    url: `http://${host}:${port}`,
    deps,
    seeded,
    close: () => (closing ??= close()),
  };
}
