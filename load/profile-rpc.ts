/**
 * Where a node's CPU goes under one call: runs a node with --cpu-prof, drives BENCH_EVENT (cart:get) from 32
 * sockets for BENCH_CALLS calls (cart:get on a cart of BENCH_CART_LINES lines), stops it, and prints where the
 * self time goes: the top functions, and by package or folder.
 *   npm run profile:rpc                 BENCH_EVENT=me:get npm run profile:rpc       BENCH_TARGET=bare npm run profile:rpc
 * Builds its own database `lilium_bench_profile` (BENCH_DB names another); stops by itself. Counts only the samples of the
 * measured calls (after a warm-up), in µs per call.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { call } from '../protocol/client.js';
import { BENCH_ENV, fillCart, freshDatabase, signIn, startProcess, stopAll, stopProcess } from './setup.js';
import { parseExposition } from './server-metrics.js';
import { runBounded, summary } from './stats.js';

const EVENT = (process.env.BENCH_EVENT ?? 'cart:get') as 'cart:get' | 'me:get';
const CALLS = Number(process.env.BENCH_CALLS ?? 10_000);
/** cart:get prices a cart of this many lines from two vendors, as in bench:ceilings. */
const LINES = Number(process.env.BENCH_CART_LINES ?? 2);
/** BENCH_TARGET=bare profiles load/bare-server.ts running the same SQL instead, to set the two side by side. */
const BARE = process.env.BENCH_TARGET === 'bare';
/**
 * BENCH_PROFILER=callgrind runs the profiled server under valgrind's callgrind instead, instrumented only while the
 * measured calls run: instructions per call, which the neighbours' load does not move (CPU time and samples do).
 */
const CALLGRIND = process.env.BENCH_PROFILER === 'callgrind';
const dir = mkdtempSync(join(tmpdir(), 'lilium-prof-'));

/** A TypeScript entry point under callgrind, not instrumented until told; its pid is valgrind's, which callgrind_control takes. */
const underCallgrind: ChildProcess[] = [];
/**
 * Tells the callgrind of `pid` to do `what`. callgrind_control reaches it through vgdb's pipes, whose names hold $USER
 * and $HOST as valgrind saw them: the servers' HOST (BENCH_ENV's listening address) must be callgrind_control's too.
 */
const callgrindControl = (pid: number, what: string) =>
  execFileSync('callgrind_control', [`--vgdb-prefix=${dir}/vgdb`, what, String(pid)], { stdio: 'ignore', env: { ...process.env, HOST: BENCH_ENV.HOST } });
function startUnderCallgrind(args: string[], env: Record<string, string>, pattern: RegExp) {
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      `--vgdb-prefix=${dir}/vgdb`,
      `--callgrind-out-file=${dir}/callgrind.out.%p`,
      process.execPath,
      '--import',
      'tsx',
      ...args,
    ],
    { env: { ...process.env, ...env, HOST: BENCH_ENV.HOST }, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  underCallgrind.push(child);
  return new Promise<{ child: typeof child; match: RegExpMatchArray }>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      const match = (out += d.toString()).match(pattern);
      if (match) resolve({ child, match });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${out}`)));
  });
}

const database = await freshDatabase('lilium_bench_profile');
/** A sample every 100 µs: enough of them in the measured window to tell functions of a few µs per call apart. */
const profiled = ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100'];
const start = (profile: boolean, args: string[], env: Record<string, string>, pattern: RegExp) =>
  profile && CALLGRIND ? startUnderCallgrind(args, env, pattern) : startProcess([...(profile ? profiled : []), ...args], env, pattern);
const lilium = await start(!BARE, ['server/main.ts'], { ...BENCH_ENV, DATABASE_URL: database.url }, /listening on (http:\S+)/);
const url = lilium.match[1]!;
let profiledPid = lilium.child.pid!;
const shop = await signIn(url, 'shop1@demo.lilium');
if (EVENT === 'cart:get') await fillCart(shop.socket, (await signIn(url, 'admin@demo.lilium')).socket, LINES);
const sockets: Socket[] = [];
let input: Record<string, unknown> = {};
if (BARE) {
  const bare = await start(true, ['load/bare-server.ts'], { BARE_DATABASE_URL: database.url }, /bare listening on (\d+)/);
  profiledPid = bare.child.pid!;
  input = EVENT === 'me:get' ? { userId: shop.userId } : { shopId: (await call(shop.socket, 'me:get', {})).shopId };
  for (let i = 0; i < 32; i++) sockets.push(io(`http://127.0.0.1:${bare.match[1]}`, { transports: ['websocket'] }));
} else for (let i = 0; i < 32; i++) sockets.push((await signIn(url, 'shop1@demo.lilium')).socket as Socket);
const task = async (i: number) => {
  const ack = (await sockets[i % 32]!.timeout(10_000).emitWithAck(EVENT, input)) as { ok: boolean };
  if (!ack.ok) throw new Error(JSON.stringify(ack));
};
// Warmed up first; only the samples taken while the measured calls run are counted (V8's profile clock and hrtime
// are both the monotonic clock, in µs and ns), so start-up and warm-up fall outside.
await runBounded(Number(process.env.BENCH_WARMUP ?? 3000), 32, task);
/** Lilium's garbage collection so far, seconds by kind (prom-client's nodejs_gc_duration_seconds): the bare server has no /metrics. */
async function gcSeconds(): Promise<Map<string, number>> {
  const samples = parseExposition(await (await fetch(`${url}/metrics`)).text());
  return new Map(samples.filter((s) => s.name === 'nodejs_gc_duration_seconds_sum').map((s) => [s.labels.kind!, s.value]));
}
const gcBefore = BARE ? null : await gcSeconds();
const from = Number(process.hrtime.bigint() / 1000n);
if (CALLGRIND) callgrindControl(profiledPid, '--instr=on');
const r = await runBounded(CALLS, 32, task);
if (CALLGRIND) {
  callgrindControl(profiledPid, '--dump');
  callgrindControl(profiledPid, '--instr=off');
}
const to = Number(process.hrtime.bigint() / 1000n);
const gcAfter = gcBefore && (await gcSeconds());
for (const s of [...sockets, shop.socket]) s.close();
await Promise.all([stopAll(), ...underCallgrind.map(stopProcess)]);
await database.drop();

console.log(`${EVENT}: ${Math.round(CALLS / r.seconds)} calls/s`, summary(r.latencies));
if (gcBefore && gcAfter) {
  const perCall = [...gcAfter].map(([kind, s]) => `${kind} ${(((s - (gcBefore.get(kind) ?? 0)) * 1e6) / CALLS).toFixed(2)}`);
  console.log(`garbage collection, µs per call by kind: ${perCall.join(', ')}`);
}
if (CALLGRIND) {
  // The dump of the measured window (callgrind names it .1 after the pid); the final dump at exit holds nothing.
  const dump = readdirSync(dir).find((f) => f.startsWith('callgrind.out.') && f.endsWith('.1'))!;
  const text = readFileSync(join(dir, dump), 'utf8');
  const ir = Number(/^summary: (\d+)/m.exec(text)?.[1] ?? /^totals: (\d+)/m.exec(text)![1]);
  console.log(`${BARE ? 'bare' : 'Lilium'} ${EVENT}: ${Math.round(ir / CALLS)} instructions per call (${CALLS} calls; ${join(dir, dump)})`);
  // Machine code V8 generated has no symbol (callgrind shows it as ???); builtins, the GC and libraries do.
  const top = execFileSync('callgrind_annotate', ['--threshold=95', join(dir, dump)], { encoding: 'utf8' });
  console.log(
    top
      .split('\n')
      .filter((l) => /^\s*[\d,]+ \(/.test(l))
      .slice(0, 30)
      .join('\n'),
  );
  process.exit(0);
}
// The main thread's profile is the largest; the loader thread's is nearly all idle.
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}
const profiles = readdirSync(dir).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Profile);
const main = profiles.sort((a, b) => b.nodes.length - a.nodes.length)[0]!;
// Each sample's time (µs) is the gap to the next one, counted for the node it hit, within the measured window only.
const spentUs = new Map<number, number>();
let at = main.startTime;
for (let k = 0; k < main.samples.length; k++) {
  at += main.timeDeltas[k]!;
  const gap = main.timeDeltas[k + 1] ?? 0;
  if (at >= from && at < to) spentUs.set(main.samples[k]!, (spentUs.get(main.samples[k]!) ?? 0) + gap);
}
for (const n of main.nodes) n.hitCount = spentUs.get(n.id) ?? 0;
const total = main.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
const idle = main.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((s, n) => s + (n.hitCount ?? 0), 0);
console.log(`busy ${((total - idle) / CALLS).toFixed(1)} µs per call (profiler's clock, ${CALLS} calls, idle left out)`);
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
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}% ${(us / CALLS).toFixed(2).padStart(6)} µs/call`;
console.log('self time by function:');
for (const [key, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${pct(hits)}  ${key}`);
console.log('self time by package or folder:');
for (const [area, hits] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${pct(hits)}  ${area}`);
process.exit(0);
