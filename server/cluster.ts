/**
 * Several Lilium nodes on one machine, on consecutive ports, sharing PostgreSQL and Redis:
 *   npm run cluster -- --nodes 3 [--port 3000]
 * DATABASE_URL and REDIS_URL default to the local services (the database `lilium` is created if missing).
 * The first node migrates and seeds before the others start. Ctrl-C or SIGTERM drains every node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '3' }, port: { type: 'string', default: process.env.PORT ?? '3000' } } });
const nodes = Number(values.nodes);
const basePort = Number(values.port);
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 32) fail('--nodes must be a whole number from 1 to 32');
if (!Number.isInteger(basePort) || basePort < 1 || basePort + nodes - 1 > 65_535) fail('--port must leave room for every node below 65536');

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/lilium';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function fail(message: string): never {
  process.stderr.write(`cluster: ${message}\n`);
  process.exit(1);
}

async function ensureDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = new pg.Client({ connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
}

const children: ChildProcess[] = [];

function start(i: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, PORT: String(basePort + i) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const tag = `[node ${i + 1}] `;
    const relay = (to: NodeJS.WriteStream) => (d: Buffer) => to.write(d.toString().replace(/^(?=.)/gm, tag));
    child.stdout!.on('data', relay(process.stdout));
    child.stderr!.on('data', relay(process.stderr));
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('listening on') && resolve());
    child.once('exit', (code, signal) => {
      reject(new Error(`node ${i + 1} exited (${signal ?? code}) before listening`));
      if (!stopping) stop(`node ${i + 1} exited`, 1);
    });
  });
}

let stopping = false;
function stop(why: string, code = 0): void {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`cluster: ${why}; draining ${children.length} node(s)\n`);
  const exits = children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => c.once('exit', r)));
  for (const c of children) c.kill('SIGTERM');
  void Promise.all(exits).then(() => process.exit(code));
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

try {
  await ensureDatabase(databaseUrl);
  await start(0);
  await Promise.all(Array.from({ length: nodes - 1 }, (_, k) => start(k + 1)));
  process.stdout.write(
    `cluster: ${nodes} node(s) on ports ${basePort}–${basePort + nodes - 1}, sharing ${new URL(databaseUrl).host} and ${new URL(redisUrl).host}\n`,
  );
} catch (err) {
  process.stderr.write(`cluster: ${err instanceof Error ? err.message : String(err)}\n`);
  stop('a node failed to start', 1);
}
