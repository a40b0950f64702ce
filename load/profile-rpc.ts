/**
 * Where a node's CPU goes under one call: runs a node with --cpu-prof, drives BENCH_EVENT (cart:get) from 32
 * sockets for BENCH_CALLS calls, stops it, and prints the functions with the most self time.
 *   npm run profile:rpc                 BENCH_EVENT=me:get npm run profile:rpc
 * Builds its own database `lilium_bench_profile`; stops by itself.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, type LiliumSocket } from '../protocol/client.js';
import { BENCH_ENV, freshDatabase, signIn, startProcess, stopAll } from './setup.js';
import { runBounded, summary } from './stats.js';

const EVENT = (process.env.BENCH_EVENT ?? 'cart:get') as 'cart:get';
const CALLS = Number(process.env.BENCH_CALLS ?? 10_000);
const dir = mkdtempSync(join(tmpdir(), 'lilium-prof-'));

const database = await freshDatabase('lilium_bench_profile');
const { match } = await startProcess(
  ['--cpu-prof', `--cpu-prof-dir=${dir}`, 'server/main.ts'],
  { ...BENCH_ENV, DATABASE_URL: database.url },
  /listening on (http:\S+)/,
);
const url = match[1]!;
const sockets: LiliumSocket[] = [];
for (let i = 0; i < 32; i++) sockets.push((await signIn(url, 'shop1@demo.lilium')).socket);
const r = await runBounded(CALLS, 32, (i) => call(sockets[i % 32]!, EVENT, {}));
for (const s of sockets) s.close();
await stopAll();
await database.drop();

console.log(`${EVENT}: ${Math.round(CALLS / r.seconds)} calls/s`, summary(r.latencies));
// The main thread's profile is the largest; the loader thread's is nearly all idle.
interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
const profiles = readdirSync(dir).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { nodes: Node[] });
const main = profiles.sort((a, b) => b.nodes.length - a.nodes.length)[0]!;
const total = main.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
const self = new Map<string, number>();
for (const n of main.nodes) {
  const where = n.callFrame.url.split('node_modules/').at(-1)!.split('/work/main/').at(-1);
  const key = `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber}`;
  self.set(key, (self.get(key) ?? 0) + (n.hitCount ?? 0));
}
for (const [key, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${((100 * hits) / total).toFixed(1).padStart(5)}%  ${key}`);
process.exit(0);
