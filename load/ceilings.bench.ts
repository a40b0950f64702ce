/**
 * Ceilings measured in one run, on this machine, each beside what Lilium does:
 *  1. round trips, same sockets and concurrency (BENCH_CONCURRENCY): a bare Socket.IO ack on uWebSockets.js (no
 *     database); and `me:get` and `cart:get` (a cart of BENCH_CART_LINES lines from two vendors) beside a bare
 *     server whose ack runs the same SQL through `pg` with a pool of the same size (load/bare-server.ts), in
 *     BENCH_ROUNDS alternating rounds so that the machine's noise falls on both sides alike;
 *  2. pgbench's tpcb-like transaction from Node through `pg` at BENCH_TPCB_CONCURRENCY (16, the checkout bench's)
 *     on tables of its own, and pgbench itself on them when it is installed: the yardstick for a checkout;
 *  3. memory per idle authenticated socket with BENCH_SOCKETS connected to one node;
 *  4. time for one push to reach every socket of a zone room of that size, on one node and across 3 nodes
 *     (Redis adapter), each beside a bare broadcast to as many receivers on as many bare nodes.
 *   npm run bench:ceilings        bounded defaults: about two minutes here
 *   BENCH_SOCKETS=10000 BENCH_CALLS=20000 BENCH_PUSHES=20 BENCH_TPCB_TRANSACTIONS=10000 npm run bench:ceilings
 *   BENCH_ONLY=memory BENCH_SOCKETS=10000 npm run bench:ceilings   only 3., after BENCH_CALLS me:get calls as warm-up
 *   BENCH_ONLY=push BENCH_SOCKETS=10000 BENCH_PUSHES=20 npm run bench:ceilings   only 3. and 4.
 *   BENCH_ONLY=read npm run bench:ceilings       only the round trips of 1. (me:get, cart:get, the bare ack)
 * The checkout ceiling (the same transaction without the server) is in `npm run bench:checkout`.
 * Builds its own databases; servers are child processes on 127.0.0.1; stops by itself. Every ratio is printed
 * and written to load/results/ceilings.json.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { io, type Socket } from 'socket.io-client';
import { WebSocket } from 'ws';
import { call, type LiliumSocket } from '../protocol/client.js';
import { BENCH_REDIS_URL, connectAs, freshDatabase, machine, fillCart, signIn, startNode, startProcess, stopAll, stopProcess, writeResult } from './setup.js';
import { runBounded, summary } from './stats.js';
import { parseExposition } from './server-metrics.js';
import { runTpcb } from './tpcb.js';
import { countCpu } from './cpu.js';

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 2000);
/** Calls per server and event, split over the rounds. */
const CALLS = Number(process.env.BENCH_CALLS ?? 6000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const PUSHES = Number(process.env.BENCH_PUSHES ?? 10);
const CART_LINES = Number(process.env.BENCH_CART_LINES ?? 2);
const TPCB_TRANSACTIONS = Number(process.env.BENCH_TPCB_TRANSACTIONS ?? 3000);
const TPCB_CONCURRENCY = Number(process.env.BENCH_TPCB_CONCURRENCY ?? 16);
const TPCB_SCALE = Number(process.env.BENCH_TPCB_SCALE ?? 1);
/** Lilium's pool and the bare server's are the same size. */
const POOL_SIZE = process.env.DB_POOL_SIZE ?? '10';
/** How long one push may take to reach every socket before the bench counts the ones it missed and moves on. */
const PUSH_DEADLINE_MS = 15_000;
const dbName = process.env.BENCH_DB ?? 'lilium_bench_ceilings';
/** `memory`: only the memory measurement (3.); `push`: only memory and pushes (3. and 4.); `read`: only the round trips (1.); unset: everything. */
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== 'memory' && ONLY !== 'push' && ONLY !== 'read')
  throw new Error(`BENCH_ONLY=${ONLY}: only "memory", "push" and "read" are known`);
const database = await freshDatabase(dbName);
// Every bench socket comes from this one machine: lift the per-address cap above their number.
const startLilium = (env: Record<string, string> = {}) =>
  startNode(database.url, {
    STOCK_PUSH_INTERVAL_MS: '1',
    MAX_CONNECTIONS_PER_ADDRESS: String(SOCKETS + 1000),
    MAX_CONNECTIONS: String(SOCKETS + 1000),
    DB_POOL_SIZE: POOL_SIZE,
    // Runtime flags for the Lilium nodes alone (a GC setting tried against the bare server's defaults).
    ...(process.env.BENCH_LILIUM_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_LILIUM_NODE_OPTIONS } : {}),
    ...env,
  });
const startBare = async (env: Record<string, string> = {}) => {
  const { child, match } = await startProcess(['load/bare-server.ts'], env, /bare listening on (\d+)/);
  return { child, url: `http://127.0.0.1:${match[1]}` };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
/** Where a node's memory is, from its /metrics (prom-client's process and Node.js series), in MiB. */
async function memoryOf(url: string) {
  const samples = parseExposition(await (await fetch(`${url}/metrics`)).text());
  const mib = (name: string, space?: string) =>
    Math.round((samples.find((s) => s.name === name && (space === undefined || s.labels.space === space))?.value ?? 0) / 104857.6) / 10;
  return {
    rss: mib('process_resident_memory_bytes'),
    heapTotal: mib('nodejs_heap_size_total_bytes'),
    heapUsed: mib('nodejs_heap_size_used_bytes'),
    external: mib('nodejs_external_memory_bytes'),
    oldSpaceUsed: mib('nodejs_heap_space_size_used_bytes', 'old'),
    newSpaceTotal: mib('nodejs_heap_space_size_total_bytes', 'new'),
    codeSpaceUsed: mib('nodejs_heap_space_size_used_bytes', 'code'),
  };
}
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

/**
 * A minimal Socket.IO client on a bare WebSocket: it answers pings and watches frames for one text, and decodes
 * nothing else. With 10k of them in one process, the receiving side costs little next to the server's.
 */
class RawClient {
  private watch: { text: string[]; resolve: () => void } | null = null;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const frame = data.toString();
      if (frame === '2') ws.send('3');
      else if (this.watch && this.watch.text.every((t) => frame.includes(t))) {
        const { resolve } = this.watch;
        this.watch = null;
        resolve();
      }
    });
  }
  next(text: string[]): Promise<void> {
    return new Promise((resolve) => (this.watch = { text, resolve }));
  }
  close(): void {
    this.ws.terminate();
  }
}

function connectRaw(url: string, token: string): Promise<RawClient> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', function first(data: Buffer) {
      const frame = data.toString();
      if (frame.startsWith('0')) ws.send(`40${JSON.stringify({ token })}`);
      else if (frame.startsWith('40')) {
        ws.off('message', first);
        resolve(new RawClient(ws));
      } else if (frame.startsWith('44')) reject(new Error(frame));
    });
  });
}

/** `n` idle sockets authenticated in the handshake, spread over the urls, connected 250 at a time. */
async function connectMany(urls: string[], token: string, n: number): Promise<RawClient[]> {
  const clients: RawClient[] = [];
  for (let i = 0; i < n; i += 250) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(250, n - i) }, (_, k) => connectRaw(urls[(i + k) % urls.length]!, token)))));
  }
  return clients;
}

/**
 * Ms from `trigger()` to the first and to the last socket of `room` seeing its push, for each of PUSHES pushes;
 * `text(i)` is what push `i`'s frame holds. A socket that has not seen it after PUSH_DEADLINE_MS is counted as missed.
 */
async function timePushes(room: RawClient[], text: (i: number) => string[], trigger: (i: number) => Promise<unknown>, before?: (i: number) => Promise<void>) {
  const first: number[] = [];
  const last: number[] = [];
  let missed = 0;
  for (let i = 0; i < PUSHES; i++) {
    await before?.(i);
    let firstAt = 0;
    let seen = 0;
    const arrivals = room.map((c) =>
      c.next(text(i)).then(() => {
        firstAt ||= performance.now();
        seen++;
      }),
    );
    const t0 = performance.now();
    await trigger(i);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(arrivals), new Promise((r) => (timer = setTimeout(r, PUSH_DEADLINE_MS)))]);
    clearTimeout(timer);
    missed += room.length - seen;
    first.push(firstAt - t0);
    last.push(performance.now() - t0);
  }
  return { firstSocketMs: summary(first), lastSocketMs: summary(last), missed };
}

/** Lilium: a stock:adjust by the vendor's staff, pushed as stock:changed to the product's zone room. */
async function fanOut(room: RawClient[], staff: LiliumSocket, productId: string) {
  let level = 0;
  return timePushes(
    room,
    () => ['stock:changed', productId, `"stock":${level},`],
    () => call(staff, 'stock:adjust', { productId, delta: 1, reason: 'bench', idempotencyKey: randomUUID() }),
    async () => void (level = (await call(staff, 'products:get', { id: productId })).stock + 1),
  );
}

/** The bare server: one emit to every socket (through the Redis adapter when the nodes share one). */
const bareFanOut = (room: RawClient[], trigger: Socket) =>
  timePushes(
    room,
    (i) => ['bench:push', `"seq":${i}}`],
    (i) => ask(trigger, 'broadcast', { seq: i }),
  );

/** A call as protocol/client.ts makes it (a timeout, then the ack), to either server. */
async function ask(socket: Socket | LiliumSocket, event: string, input: unknown): Promise<unknown> {
  const ack = (await (socket as Socket).timeout(10_000).emitWithAck(event, input)) as {
    ok: boolean;
    data?: unknown;
    error?: { code: string; message: string };
  };
  if (!ack.ok) throw Object.assign(new Error(ack.error!.message), { code: ack.error!.code });
  return ack.data;
}

const connectBare = (url: string) =>
  Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      const s = io(url, { transports: ['websocket'] });
      await new Promise((r) => s.once('connect', () => r(null)));
      return s;
    }),
  );

const rate = (calls: number, seconds: number) => Math.round(calls / seconds);

type Side = 'bare' | 'lilium';

/**
 * The same call on the bare server and on Lilium, same concurrency, in alternating rounds (bare first in odd
 * rounds, Lilium first in even ones) after a warm-up of each; with the CPU each call cost the server, PostgreSQL
 * and this client.
 */
async function compare(pids: Record<Side, number>, tasks: Record<Side, (i: number) => Promise<unknown>>) {
  const perRound = Math.ceil(CALLS / ROUNDS);
  for (const side of ['bare', 'lilium'] as const) await runBounded(Math.min(2000, perRound), CONCURRENCY, tasks[side]);
  const fresh = () => ({ latencies: [] as number[], seconds: 0, errors: {} as Record<string, number>, cpu: { serverS: 0, postgresS: 0, clientS: 0 } });
  const sides = { bare: fresh(), lilium: fresh() };
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? (['bare', 'lilium'] as const) : (['lilium', 'bare'] as const);
    const rps: Record<string, number> = {};
    for (const side of order) {
      const stop = countCpu(pids[side], dbName);
      const run = await runBounded(perRound, CONCURRENCY, tasks[side]);
      const cpu = stop();
      const acc = sides[side];
      acc.latencies.push(...run.latencies);
      acc.seconds += run.seconds;
      for (const k of ['serverS', 'postgresS', 'clientS'] as const) acc.cpu[k] += cpu[k];
      for (const [code, n] of Object.entries(run.errors)) acc.errors[code] = (acc.errors[code] ?? 0) + n;
      rps[side] = rate(run.latencies.length, run.seconds);
    }
    rounds.push(ratio(rps.lilium!, rps.bare!));
  }
  const perCallUs = (s: number, n: number) => Math.round((s * 1e6) / n);
  const side = (s: (typeof sides)['bare']) => ({
    ...summary(s.latencies),
    rps: rate(s.latencies.length, s.seconds),
    errors: s.errors,
    cpuPerCallUs: {
      server: perCallUs(s.cpu.serverS, s.latencies.length),
      postgres: perCallUs(s.cpu.postgresS, s.latencies.length),
      client: perCallUs(s.cpu.clientS, s.latencies.length),
    },
  });
  const out = { bare: side(sides.bare), lilium: side(sides.lilium), roundRatios: rounds };
  return { ...out, ratio: ratio(out.lilium.rps, out.bare.rps) };
}

/**
 * The node's RSS before and after SOCKETS idle sockets authenticated with `token` connect (settled for 3 s), and
 * where its memory is at each point (heap, external) as its /metrics tells.
 */
async function idleSockets(node: { child: ChildProcess; url: string }, token: string) {
  await sleep(1000);
  const rssBefore = rssMiB(node.child.pid!);
  const before = await memoryOf(node.url);
  const room = await connectMany([node.url], token, SOCKETS);
  await sleep(3000);
  const rssAfter = rssMiB(node.child.pid!);
  const after = await memoryOf(node.url);
  const perSocketKiB = ((rssAfter - rssBefore) * 1024) / SOCKETS;
  const memory = {
    sockets: SOCKETS,
    rssBeforeMiB: Math.round(rssBefore),
    rssAfterMiB: Math.round(rssAfter),
    perSocketKiB: Math.round(perSocketKiB * 10) / 10,
    socketsPerGiBOfRss: Math.round(SOCKETS / (rssAfter / 1024)),
    socketsPerGiBAdded: Math.round((1024 * 1024) / perSocketKiB),
    breakdownMiB: { before, after },
  };
  return { room, memory };
}

// 1. Round trips: Lilium's node, a shop's cart with lines from two vendors, and the bare server on the same database.
const single = await startLilium();
const shop = await signIn(single.url, 'shop1@demo.lilium');
const adminSession = await signIn(single.url, 'admin@demo.lilium');
const me = await call(shop.socket, 'me:get', {});
await fillCart(shop.socket, adminSession.socket, CART_LINES);
if (ONLY === 'memory') {
  // The node has served calls before its sockets idle, as in the whole bench (there, the round trips of 1.).
  // The node's CPU per warm-up call tells whether a memory setting (V8's heap sizes) costs the read path.
  const shopSockets = await Promise.all(Array.from({ length: CONCURRENCY }, () => connectAs(single.url, shop.token)));
  const warmUpCpuUs: Record<string, number> = {};
  for (const event of ['me:get', 'cart:get'] as const) {
    const stop = countCpu(single.child.pid!, dbName);
    await runBounded(CALLS, CONCURRENCY, (i) => call(shopSockets[i % CONCURRENCY]!, event, {}));
    warmUpCpuUs[event] = Math.round((stop().serverS * 1e6) / CALLS);
  }
  for (const s of shopSockets) s.close();
  const { room, memory } = await idleSockets(single, shop.token);
  const out = {
    bench: 'ceilings',
    only: 'memory',
    date: new Date().toISOString(),
    machine: machine(),
    settings: { sockets: SOCKETS, calls: CALLS },
    memory: { ...memory, warmUpServerCpuUsPerCall: warmUpCpuUs },
  };
  const file = writeResult('ceilings-memory.json', JSON.stringify(out, null, 2));
  console.log(JSON.stringify(out, null, 2));
  console.log(`\n${memory.socketsPerGiBOfRss} idle authenticated sockets per GiB of RSS at ${SOCKETS} (${memory.perSocketKiB} KiB each; ${file})`);
  console.log(`node CPU per warm-up call: me:get ${warmUpCpuUs['me:get']} µs, cart:get ${warmUpCpuUs['cart:get']} µs`);
  for (const s of room) s.close();
  await stopAll();
  await database.drop();
  process.exit(0);
}
/** Section 1. */
async function roundTrips() {
  const bare = await startBare({ BARE_DATABASE_URL: database.url, BARE_POOL_SIZE: POOL_SIZE });
  const bareSockets = await connectBare(bare.url);
  // One sign-in, then the other sockets with its token: an account's devices reconnect that way (and concurrent
  // password checks of one account are bounded by the lockout).
  const shopSockets = await Promise.all(Array.from({ length: CONCURRENCY }, () => connectAs(single.url, shop.token)));
  const bareOf = (i: number) => bareSockets[i % CONCURRENCY]!;
  const liliumOf = (i: number) => shopSockets[i % CONCURRENCY]!;
  // The same SQL must give the same answer, or the comparison is not of the same call.
  const sameAnswers = {
    'me:get': JSON.stringify(await ask(bareOf(0), 'me:get', { userId: shop.userId })) === JSON.stringify(await call(liliumOf(0), 'me:get', {})),
    'cart:get': JSON.stringify(await ask(bareOf(0), 'cart:get', { shopId: me.shopId })) === JSON.stringify(await call(liliumOf(0), 'cart:get', {})),
  };
  await runBounded(2000, CONCURRENCY, (i) => ask(bareOf(i), 'ping', {}));
  const pingRun = await runBounded(CALLS, CONCURRENCY, (i) => ask(bareOf(i), 'ping', {}));
  const bareAck = { ...summary(pingRun.latencies), rps: rate(pingRun.latencies.length, pingRun.seconds) };
  const pids = { bare: bare.child.pid!, lilium: single.child.pid! };
  const meGet = await compare(pids, {
    bare: (i) => ask(bareOf(i), 'me:get', { userId: shop.userId }),
    lilium: (i) => call(liliumOf(i), 'me:get', {}),
  });
  const cartGet = await compare(pids, {
    bare: (i) => ask(bareOf(i), 'cart:get', { shopId: me.shopId }),
    lilium: (i) => call(liliumOf(i), 'cart:get', {}),
  });
  for (const s of [...bareSockets, ...shopSockets]) s.close();
  await stopProcess(bare.child);
  return { bareAck, meGet, cartGet, sameAnswers };
}

/** One line per read call: its ratio, rates and the CPU each call cost each party. */
function printRoundTrips(r: Awaited<ReturnType<typeof roundTrips>>) {
  console.log(
    `  me:get ${r.meGet.lilium.rps}/s vs ${r.meGet.bare.rps}/s; cart:get ${r.cartGet.lilium.rps}/s vs ${r.cartGet.bare.rps}/s; bare ack ${r.bareAck.rps}/s`,
  );
  for (const [name, c] of [
    ['me:get', r.meGet],
    ['cart:get', r.cartGet],
  ] as const) {
    const us = (s: typeof c.bare) => `server ${s.cpuPerCallUs.server}, PostgreSQL ${s.cpuPerCallUs.postgres}, client ${s.cpuPerCallUs.client}`;
    console.log(`  ${name} ${c.ratio} (rounds ${c.roundRatios.join(' ')}) CPU µs per call: Lilium ${us(c.lilium)}; bare ${us(c.bare)}`);
  }
}

if (ONLY === 'read') {
  const r = await roundTrips();
  const out = {
    bench: 'ceilings',
    only: 'read',
    date: new Date().toISOString(),
    machine: machine(),
    settings: { calls: CALLS, rounds: ROUNDS, concurrency: CONCURRENCY, cartLines: CART_LINES, poolSize: Number(POOL_SIZE) },
    ratios: { meGetVsBareSameSql: r.meGet.ratio, cartGetVsBareSameSql: r.cartGet.ratio },
    roundTrip: { bareSocketIoAck: r.bareAck, meGet: r.meGet, cartGet: r.cartGet, sameAnswers: r.sameAnswers },
  };
  const file = writeResult('ceilings-read.json', JSON.stringify(out, null, 2));
  console.log(JSON.stringify(out, null, 2));
  console.log(`\nread path (Lilium / bare server with the same SQL, same run; ${file}):`);
  printRoundTrips(r);
  for (const s of [shop.socket, adminSession.socket]) s.close();
  await stopAll();
  await database.drop();
  process.exit(0);
}

/** Sections 1 and 2, left out when BENCH_ONLY=push. */
async function roundTripsAndTpcb() {
  const trips = await roundTrips();
  // 2. pgbench's transaction from Node (the Lilium node idles meanwhile).
  const tpcb = await runTpcb({ transactions: TPCB_TRANSACTIONS, concurrency: TPCB_CONCURRENCY, scale: TPCB_SCALE });
  return { ...trips, tpcb };
}
const measured = ONLY === 'push' ? null : await roundTripsAndTpcb();

// 3. Memory: idle authenticated sockets of shop owners of one zone.
const staff = await signIn(single.url, 'vendor1@demo.lilium');
const zoneId = me.zoneIds[0]!;
const vendorId = (await call(staff.socket, 'me:get', {})).vendorId!;
await call(adminSession.socket, 'vendors:update', { id: vendorId, zones: [{ zoneId, deliveryFee: 0, minOrderValue: 0 }] });
const tree = (await call(staff.socket, 'categories:tree', {})).items;
const product = await call(staff.socket, 'products:create', {
  sku: 'CEILING-1',
  name: { ar: 'منتج', en: 'Ceiling product' },
  categoryId: tree[0]!.id,
  price: 1000,
  unit: 'PIECE',
  stock: 1000,
  zoneIds: [zoneId],
});
const { room, memory } = await idleSockets(single, shop.token);

// 4a. Fan-out on one node, then a bare broadcast to as many sockets on one bare node.
const oneNode = await fanOut(room, staff.socket, product.id);
for (const s of room) s.close();
for (const s of [shop.socket, staff.socket, adminSession.socket]) s.close();
await stopProcess(single.child);
const bareNode = await startBare();
const bareRoom = await connectMany([bareNode.url], 'none', SOCKETS);
const [bareTrigger] = await connectBare(bareNode.url);
const bareOneNode = await bareFanOut(bareRoom, bareTrigger!);
for (const s of [...bareRoom, bareTrigger!]) s.close();
await stopProcess(bareNode.child);

// 4b. Fan-out across 3 nodes sharing Redis, then the bare broadcast across 3 bare nodes through the same adapter.
const prefix = `lilium-bench-${randomUUID().slice(0, 8)}`;
const nodes = [];
for (let i = 0; i < 3; i++) nodes.push(await startLilium({ REDIS_URL: BENCH_REDIS_URL, REDIS_PREFIX: prefix }));
const staff3 = await signIn(nodes[0]!.url, 'vendor1@demo.lilium');
const room3 = await connectMany(
  nodes.map((n) => n.url),
  shop.token,
  SOCKETS,
);
await new Promise((r) => setTimeout(r, 2000));
const threeNodes = await fanOut(room3, staff3.socket, product.id);
for (const s of room3) s.close();
staff3.socket.close();
for (const n of nodes) await stopProcess(n.child);
const bareNodes = [];
for (let i = 0; i < 3; i++) bareNodes.push(await startBare({ BARE_REDIS_URL: BENCH_REDIS_URL, BARE_REDIS_KEY: `${prefix}-bare#socket.io` }));
const bareRoom3 = await connectMany(
  bareNodes.map((n) => n.url),
  'none',
  SOCKETS,
);
const [bareTrigger3] = await connectBare(bareNodes[0]!.url);
await new Promise((r) => setTimeout(r, 2000));
const bareThreeNodes = await bareFanOut(bareRoom3, bareTrigger3!);
for (const s of [...bareRoom3, bareTrigger3!]) s.close();
for (const n of bareNodes) await stopProcess(n.child);

const out = {
  bench: 'ceilings',
  date: new Date().toISOString(),
  machine: machine(),
  settings: { sockets: SOCKETS, calls: CALLS, rounds: ROUNDS, concurrency: CONCURRENCY, cartLines: CART_LINES, poolSize: Number(POOL_SIZE), pushes: PUSHES },
  ratios: {
    ...(measured && {
      meGetVsBareSameSql: measured.meGet.ratio,
      cartGetVsBareSameSql: measured.cartGet.ratio,
      meGetVsBareAck: ratio(measured.meGet.lilium.rps, measured.bareAck.rps),
      cartGetVsBareAck: ratio(measured.cartGet.lilium.rps, measured.bareAck.rps),
      tpcbNodeVsPgbench: measured.tpcb.pgbench ? ratio(measured.tpcb.node.tps, measured.tpcb.pgbench.tps) : null,
    }),
    pushLastSocketP50OneNodeVsBare: ratio(oneNode.lastSocketMs.p50, bareOneNode.lastSocketMs.p50),
    pushLastSocketP99OneNodeVsBare: ratio(oneNode.lastSocketMs.p99, bareOneNode.lastSocketMs.p99),
    pushLastSocketP50ThreeNodesVsBare: ratio(threeNodes.lastSocketMs.p50, bareThreeNodes.lastSocketMs.p50),
    pushLastSocketP99ThreeNodesVsBare: ratio(threeNodes.lastSocketMs.p99, bareThreeNodes.lastSocketMs.p99),
  },
  roundTrip: measured && { bareSocketIoAck: measured.bareAck, meGet: measured.meGet, cartGet: measured.cartGet, sameAnswers: measured.sameAnswers },
  tpcb: measured?.tpcb ?? null,
  memory,
  pushToRoom: { sockets: SOCKETS, pushes: PUSHES, oneNode, bareOneNode, threeNodes, bareThreeNodes },
};
const file = writeResult('ceilings.json', JSON.stringify(out, null, 2));
console.log(JSON.stringify(out, null, 2));
console.log(`\nratios (Lilium / ceiling, same run; ${file}):`);
for (const [name, value] of Object.entries(out.ratios)) console.log(`  ${name.padEnd(36)} ${value}`);
if (measured) {
  printRoundTrips(measured);
  console.log(
    `  tpcb-like from Node ${measured.tpcb.node.tps} tps${measured.tpcb.pgbench ? `, pgbench ${measured.tpcb.pgbench.tps} tps` : ''} (${TPCB_CONCURRENCY} in flight)`,
  );
}

await stopAll();
await database.drop();
process.exit(0);
