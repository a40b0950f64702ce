/**
 * Where a node's CPU goes under one call: runs a node with --cpu-prof, drives BENCH_EVENT (cart:get) from 32
 * sockets for BENCH_CALLS calls (cart:get on a cart of BENCH_CART_LINES lines), stops it, and prints where the
 * self time goes: the top functions, and by package or folder.
 *   npm run profile:rpc                 BENCH_EVENT=me:get npm run profile:rpc       BENCH_TARGET=bare npm run profile:rpc
 * Builds its own database `lilium_bench_profile`; stops by itself.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { call } from '../protocol/client.js';
import { BENCH_ENV, fillCart, freshDatabase, signIn, startProcess, stopAll } from './setup.js';
import { runBounded, summary } from './stats.js';

const EVENT = (process.env.BENCH_EVENT ?? 'cart:get') as 'cart:get' | 'me:get';
const CALLS = Number(process.env.BENCH_CALLS ?? 10_000);
/** cart:get prices a cart of this many lines from two vendors, as in bench:ceilings. */
const LINES = Number(process.env.BENCH_CART_LINES ?? 2);
/** BENCH_TARGET=bare profiles load/bare-server.ts running the same SQL instead, to set the two side by side. */
const BARE = process.env.BENCH_TARGET === 'bare';
const dir = mkdtempSync(join(tmpdir(), 'lilium-prof-'));

const database = await freshDatabase('lilium_bench_profile');
const profiled = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
const { match } = await startProcess([...(BARE ? [] : profiled), 'server/main.ts'], { ...BENCH_ENV, DATABASE_URL: database.url }, /listening on (http:\S+)/);
const url = match[1]!;
const shop = await signIn(url, 'shop1@demo.lilium');
if (EVENT === 'cart:get') await fillCart(shop.socket, (await signIn(url, 'admin@demo.lilium')).socket, LINES);
const sockets: Socket[] = [];
let input: Record<string, unknown> = {};
if (BARE) {
  const bare = await startProcess([...profiled, 'load/bare-server.ts'], { BARE_DATABASE_URL: database.url }, /bare listening on (\d+)/);
  input = EVENT === 'me:get' ? { userId: shop.userId } : { shopId: (await call(shop.socket, 'me:get', {})).shopId };
  for (let i = 0; i < 32; i++) sockets.push(io(`http://127.0.0.1:${bare.match[1]}`, { transports: ['websocket'] }));
} else for (let i = 0; i < 32; i++) sockets.push((await signIn(url, 'shop1@demo.lilium')).socket as Socket);
const r = await runBounded(CALLS, 32, async (i) => {
  const ack = (await sockets[i % 32]!.timeout(10_000).emitWithAck(EVENT, input)) as { ok: boolean };
  if (!ack.ok) throw new Error(JSON.stringify(ack));
});
for (const s of [...sockets, shop.socket]) s.close();
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
const byArea = new Map<string, number>();
const root = `${process.cwd()}/`;
/** Where a function lives: a package, one of Lilium's folders, Node's own code, or V8's pseudo-frames and natives. */
function areaOf({ functionName, url }: Node['callFrame']): string {
  if (url.includes('node_modules/')) {
    const [scope, name] = url.split('node_modules/').at(-1)!.split('/');
    return scope!.startsWith('@') ? `${scope}/${name}` : scope!;
  }
  if (url.startsWith('node:')) return '(node internals)';
  if (url.includes(root)) return `lilium ${url.split(root).at(-1)!.split('/')[0]}/`;
  return functionName.startsWith('(') ? functionName : '(native)';
}
for (const n of main.nodes) {
  const where = n.callFrame.url.split('node_modules/').at(-1)!.split(root).at(-1);
  const key = `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber}`;
  self.set(key, (self.get(key) ?? 0) + (n.hitCount ?? 0));
  const area = areaOf(n.callFrame);
  byArea.set(area, (byArea.get(area) ?? 0) + (n.hitCount ?? 0));
}
const pct = (hits: number) => `${((100 * hits) / total).toFixed(1).padStart(5)}%`;
console.log('self time by function:');
for (const [key, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(hits)}  ${key}`);
console.log('self time by package or folder:');
for (const [area, hits] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(hits)}  ${area}`);
process.exit(0);
