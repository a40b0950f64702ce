/** What every benchmark needs: a database of its own, server processes, signed-in clients, the machine's description, a result file. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { io } from 'socket.io-client';
import { call, type LiliumSocket } from '../protocol/client.js';
import { DEFAULT_DEMO_PASSWORD } from '../server/config.js';
import { appOf } from './fixtures.js';

const BASE = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Settings that keep the server out of the measurement's way: quiet logs, cheap hashes, no rate limit. */
export const BENCH_ENV = {
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'warn',
  BCRYPT_COST: '4',
  BCRYPT_PER_ADDRESS: '1000000',
  BCRYPT_QUEUE: '1000000',
  ACCESS_TOKEN_TTL_S: '3600',
  RATE_LIMIT_BURST: '1000000',
  RATE_LIMIT_PER_S: '1000000',
  RATE_LIMIT_ADDRESS_BURST: '1000000',
  RATE_LIMIT_ADDRESS_PER_S: '1000000',
  VALIDATE_RESULTS: 'false',
};

/**
 * A new empty database (BENCH_DB, else `name`) on the local server; `drop()` removes it. A bench that needs a
 * second one names it by `suffix`, so it never replaces the first.
 */
export async function freshDatabase(name: string, suffix = ''): Promise<{ url: string; drop(): Promise<void> }> {
  const db = process.env.BENCH_DB ? `${process.env.BENCH_DB}${suffix}` : name;
  const admin = new pg.Client({ connectionString: BASE });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${db}`);
  return {
    url: Object.assign(new URL(BASE), { pathname: `/${db}` }).toString(),
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin.end();
    },
  };
}

const children: ChildProcess[] = [];

/**
 * Runs an entry point as its own process and waits for `pattern` on its stdout: TypeScript through tsx, unless
 * `loader` is empty (compiled JavaScript).
 */
export function startProcess(
  args: string[],
  env: Record<string, string>,
  pattern: RegExp,
  loader = ['--import', 'tsx'],
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [...loader, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = out.match(pattern);
      if (match) resolve({ child, match });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${out}`)));
  });
}

let built = false;
/** Compiles the server as `npm start` does, once per bench process. */
function buildServer(): void {
  if (built) return;
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  built = true;
}

/**
 * A Lilium node on `databaseUrl`, with BENCH_ENV and `env`, run as production runs it (compiled); answers its URL.
 * BENCH_NODE_ARGS are node's own options for it (`--cpu-prof --cpu-prof-dir=DIR`, which NODE_OPTIONS refuses).
 */
export async function startNode(databaseUrl: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  buildServer();
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const { child, match } = await startProcess(
    ['dist/server/main.js'],
    { ...BENCH_ENV, DATABASE_URL: databaseUrl, ...env },
    /listening on (http:\S+)/,
    nodeArgs,
  );
  return { child, url: match[1]! };
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
}

export const stopAll = () => Promise.all(children.map(stopProcess));

export const machine = () => ({
  cpu: os.cpus()[0]?.model,
  cpus: os.cpus().length,
  memGiB: Math.round(os.totalmem() / 2 ** 30),
  os: `${os.type()} ${os.release()}`,
  node: process.version,
});

/** Writes BENCH_OUT (else load/results)/<name>, and answers its path. */
export function writeResult(name: string, body: string): string {
  const dir = process.env.BENCH_OUT ?? 'load/results';
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/${name}`, body);
  return `${dir}/${name}`;
}

/** Demo vendors made to deliver to every zone with no minimum order, so any shop can order from them. */
export async function openVendors(admin: LiliumSocket, vendorIds: string[], deliveryFee: number): Promise<void> {
  const zones = (await call(admin, 'zones:list', {})).items;
  for (const id of vendorIds) await call(admin, 'vendors:update', { id, zones: zones.map((z) => ({ zoneId: z.id, deliveryFee, minOrderValue: 0 })) });
}

/** A new socket to the node at `url`, signed in as `email` with the app its email implies. */
/** Another socket of a signed-in user, authenticated in the handshake as an app's reconnect is. */
export async function connectAs(url: string, token: string): Promise<LiliumSocket> {
  const socket: LiliumSocket = io(url, { transports: ['websocket'], auth: { token } });
  await new Promise<void>((resolve, reject) => socket.once('connect', () => resolve()).once('connect_error', reject));
  return socket;
}

export async function signIn(url: string, email: string, password = DEFAULT_DEMO_PASSWORD): Promise<{ socket: LiliumSocket; userId: string; token: string }> {
  const socket: LiliumSocket = io(url, { transports: ['websocket'] });
  const r = await call(socket, 'auth:login', { app: appOf(email), login: email, password });
  return { socket, userId: r.user.id, token: r.accessToken };
}

/** Puts `lines` products into the shop's cart, taken in turn from the first two vendors it can buy from (opened to every zone). */
export async function fillCart(shop: LiliumSocket, admin: LiliumSocket, lines: number): Promise<void> {
  const listed = (await call(shop, 'products:list', { limit: 100 })).items;
  const vendorIds = [...new Set(listed.map((p) => p.vendorId))].slice(0, 2);
  await openVendors(admin, vendorIds, 0);
  for (let i = 0; i < lines; i++) {
    const product = listed.filter((p) => p.vendorId === vendorIds[i % vendorIds.length])[Math.floor(i / vendorIds.length)]!;
    await call(shop, 'cart:add', { productId: product.id, quantity: 1 });
  }
}
