import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { pino } from 'pino';
import { io } from 'socket.io-client';
import { createApp, type App, type AppOptions } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import type { Registration } from '../../server/rpc/rpc.js';
import { call, type LiliumSocket } from '../../protocol/client.js';
import type { App as ClientApp } from '../../protocol/common.js';
import type { PushName, PushPayloadOf } from '../../protocol/index.js';
import { appOf } from '../../load/fixtures.js';
import { spawnServer, type Spawned } from './spawn.js';
import { DEMO_PASSWORD, TEMPLATE_DB, TEST_DB_PREFIX, TEST_PG_URL, TEST_REDIS_URL, dbUrl } from './env.js';

export interface HarnessOptions {
  database?: 'postgres' | 'pglite';
  redis?: boolean;
  env?: Record<string, string>;
  extraHandlers?: Registration[];
  /** Channel providers standing in for the outside services (the others log). */
  channels?: AppOptions['channels'];
}

export interface Session {
  socket: LiliumSocket;
  userId: string;
  accessToken: string;
  refreshToken: string;
}

export { appOf };

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A real server on an ephemeral port, and clients for it. More nodes are separate processes
 * (`spawnNode`): Socket.IO's uWS integration patches the adapter prototype for the whole process,
 * so two nodes must never share one, in tests as in production.
 */
export class Harness {
  app!: App;
  private readonly spawned: Spawned[] = [];
  readonly logs: Array<Record<string, unknown>> = [];
  private readonly sockets = new Set<LiliumSocket>();

  private constructor(
    private readonly options: HarnessOptions,
    readonly dbName: string | null,
    private readonly redisPrefix: string,
  ) {}

  static async start(options: HarnessOptions = {}): Promise<Harness> {
    const database = options.database ?? 'postgres';
    const dbName = database === 'postgres' ? `${TEST_DB_PREFIX}${randomBytes(5).toString('hex')}` : null;
    if (dbName) await adminQuery(`CREATE DATABASE "${dbName}" TEMPLATE "${TEMPLATE_DB}"`);
    const h = new Harness(options, dbName, `lilium-test-${randomBytes(4).toString('hex')}`);
    await h.startApp();
    return h;
  }

  get url(): string {
    return this.app.url;
  }

  /** The environment a node of this harness runs with. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      BCRYPT_COST: '4',
      // Tests sign many clients in at once from one address; the tests of these limits set their own.
      BCRYPT_PER_ADDRESS: '1000',
      BCRYPT_QUEUE: '1000',
      JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
      ...(this.dbName ? { DATABASE_URL: dbUrl(this.dbName), SEED: 'never', DB_POOL_SIZE: '10' } : { PGLITE_DIR: 'memory://', SEED: 'auto' }),
      ...(this.options.redis ? { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: this.redisPrefix } : {}),
      ...this.options.env,
      ...extra,
    };
  }

  private async startApp(): Promise<void> {
    const config = loadConfig(this.env());
    const logs = this.logs;
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) {
          if (!line) continue;
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          // Unexpected errors are worth seeing when a test fails.
          if ((entry.level as number) >= 50) process.stderr.write(`${line}\n`);
        }
        done();
      },
    });
    this.app = await createApp(config, { log: pino({ level: 'info' }, sink), extraHandlers: this.options.extraHandlers, channels: this.options.channels });
  }

  /** Stops this node and starts it again on the same database, as a deploy or a crash and restart would; its sockets are gone. */
  async restart(): Promise<void> {
    await this.app.close();
    await this.startApp();
  }

  /** Another node in its own process, on the same database and Redis, with the test-only events mounted (`env`: settings of its own, e.g. a fixed PORT). */
  async spawnNode(env: Record<string, string> = {}): Promise<{ url: string; process: Spawned }> {
    const p = spawnServer(this.env({ LOG_LEVEL: 'warn', TEST_HANDLERS: 'test/support/test-plugin.ts', ...env }));
    this.spawned.push(p);
    const [, url] = await p.waitFor(/listening on (http:\S+)/);
    return { url: url!, process: p };
  }

  /**
   * A connected socket (optionally with a handshake token) to this node or another one. With
   * TRUST_PROXY on, each socket claims its own client address (a fresh one unless given), as
   * clients behind a proxy would.
   */
  async connect(options: { token?: string; url?: string; address?: string } = {}): Promise<LiliumSocket> {
    const proxied = this.options.env?.TRUST_PROXY === '1';
    const address = options.address ?? `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    const socket: LiliumSocket = io(options.url ?? this.url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: options.token ? { token: options.token } : {},
      ...(proxied ? { extraHeaders: { 'x-forwarded-for': `203.0.113.9, ${address}` } } : {}),
    });
    this.sockets.add(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err));
    });
    return socket;
  }

  async login(email: string, options: { url?: string; password?: string; app?: ClientApp; address?: string } = {}): Promise<Session> {
    const socket = await this.connect({ url: options.url, address: options.address });
    const r = await call(socket, 'auth:login', { app: options.app ?? appOf(email), login: email, password: options.password ?? DEMO_PASSWORD });
    return { socket, userId: r.user.id, accessToken: r.accessToken, refreshToken: r.refreshToken };
  }

  /** Resolves when the server closes the socket. */
  disconnected(socket: LiliumSocket, timeoutMs = 5000): Promise<string> {
    if (socket.disconnected) return Promise.resolve('already');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`still connected after ${timeoutMs} ms`)), timeoutMs);
      socket.once('disconnect', (reason) => {
        clearTimeout(timer);
        resolve(reason);
      });
    });
  }

  /** Audit rows of one action, newest first. */
  audit(action: string, targetId?: string) {
    return this.q<{ actor_id: string | null; target_id: string | null; address: string | null; details: Record<string, unknown> }>(
      `SELECT actor_id, target_id, address, details FROM audit_log WHERE action = $1 AND ($2::text IS NULL OR target_id = $2) ORDER BY id DESC`,
      [action, targetId ?? null],
    );
  }

  /** The next push of `event` on the socket (that satisfies `match`, when given). */
  next<P extends PushName>(socket: LiliumSocket, event: P, match: (p: PushPayloadOf<P>) => boolean = () => true, timeoutMs = 5000): Promise<PushPayloadOf<P>> {
    const s = socket as unknown as { on(e: string, f: (p: unknown) => void): void; off(e: string, f: (p: unknown) => void): void };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        s.off(event, listener);
        reject(new Error(`no ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (payload: unknown) => {
        if (!match(payload as PushPayloadOf<P>)) return;
        clearTimeout(timer);
        s.off(event, listener);
        resolve(payload as PushPayloadOf<P>);
      };
      s.on(event, listener);
    });
  }

  q<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.app.deps.db.query<T>(sql, params);
  }

  /** How many sessions on this database wait for a lock, on anything: none, once the calls a test held have gone on (else LockHolder.waiters). */
  async lockWaiters(): Promise<number> {
    const [row] = await this.q<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    return row!.n;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.close();
    for (const p of this.spawned) p.child.kill('SIGTERM');
    await Promise.all([this.app.close(), ...this.spawned.map((p) => p.exited)]);
    if (this.dbName) await adminQuery(`DROP DATABASE IF EXISTS "${this.dbName}" WITH (FORCE)`);
  }
}

export const startHarness = (options?: HarnessOptions) => Harness.start(options);
