/**
 * Ceilings measured in one run, on this machine:
 *  1. a bare Socket.IO ack round trip on uWebSockets.js (no database) next to Lilium's `cart:get`, same concurrency;
 *  2. memory per idle authenticated socket with BENCH_SOCKETS (10k) connected to one node;
 *  3. time for one push to reach every socket of a zone room of that size, on one node and across 3 nodes.
 *   npm run bench:ceilings        (BENCH_SOCKETS=10000 BENCH_CALLS=20000 BENCH_CONCURRENCY=32 BENCH_PUSHES=20)
 * The checkout ceiling (the same transaction without the server) is in `npm run bench:checkout`.
 * Builds its own database `lilium_bench_ceilings`; servers are child processes on 127.0.0.1; stops by itself.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { io, type Socket } from 'socket.io-client';
import { WebSocket } from 'ws';
import { call, type LiliumSocket } from '../protocol/client.js';
import { BENCH_REDIS_URL, connectAs, freshDatabase, machine, signIn, startNode, startProcess, stopAll, stopProcess, writeResult } from './setup.js';
import { runBounded, summary } from './stats.js';

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10_000);
const CALLS = Number(process.env.BENCH_CALLS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const PUSHES = Number(process.env.BENCH_PUSHES ?? 20);
const database = await freshDatabase('lilium_bench_ceilings');
// Every bench socket comes from this one machine: lift the per-address cap above their number.
const startLilium = (env: Record<string, string> = {}) =>
  startNode(database.url, {
    STOCK_PUSH_INTERVAL_MS: '1',
    MAX_CONNECTIONS_PER_ADDRESS: String(SOCKETS + 1000),
    MAX_CONNECTIONS: String(SOCKETS + 1000),
    ...env,
  });
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

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

/** For each push: ms from sending stock:adjust to the first and to the last of the room's sockets receiving it. */
async function fanOut(room: RawClient[], staff: LiliumSocket, productId: string) {
  const first: number[] = [];
  const last: number[] = [];
  for (let i = 0; i < PUSHES; i++) {
    const level = (await call(staff, 'products:get', { id: productId })).stock + 1;
    let firstAt = 0;
    const arrivals = room.map((c) => c.next(['stock:changed', productId, `"stock":${level},`]).then(() => (firstAt ||= performance.now())));
    const t0 = performance.now();
    await call(staff, 'stock:adjust', { productId, delta: 1, reason: 'bench', idempotencyKey: randomUUID() });
    await Promise.all(arrivals);
    first.push(firstAt - t0);
    last.push(performance.now() - t0);
  }
  return { firstSocketMs: summary(first), lastSocketMs: summary(last) };
}

// 1. Round trips.
const bare = await startProcess(['load/bare-server.ts'], {}, /bare listening on (\d+)/);
const bareSockets = await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    const s = io(`http://127.0.0.1:${bare.match[1]}`, { transports: ['websocket'] });
    await new Promise((r) => s.once('connect', () => r(null)));
    return s;
  }),
);
const ping = (s: Socket) => new Promise((resolve) => s.emit('ping', {}, resolve));
await runBounded(2000, CONCURRENCY, (i) => ping(bareSockets[i % CONCURRENCY]!));
const bareRun = await runBounded(CALLS, CONCURRENCY, (i) => ping(bareSockets[i % CONCURRENCY]!));
for (const s of bareSockets) s.close();
await stopProcess(bare.child);

const single = await startLilium();
const shop = await signIn(single.url, 'shop1@demo.lilium');
// One sign-in, then the other sockets with its token: an account's devices reconnect that way (and concurrent
// password checks of one account are bounded by the lockout).
const shopSockets = await Promise.all(Array.from({ length: CONCURRENCY }, async () => ({ socket: await connectAs(single.url, shop.token) })));
await runBounded(2000, CONCURRENCY, (i) => call(shopSockets[i % CONCURRENCY]!.socket, 'cart:get', {}));
const cartRun = await runBounded(CALLS, CONCURRENCY, (i) => call(shopSockets[i % CONCURRENCY]!.socket, 'cart:get', {}));
for (const s of shopSockets) s.socket.close();

// 2. Memory: idle authenticated sockets of shop owners of one zone.
const staff = await signIn(single.url, 'vendor1@demo.lilium');
const zoneId = (await call(shop.socket, 'me:get', {})).zoneIds[0]!;
const adminSession = await signIn(single.url, 'admin@demo.lilium');
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
await new Promise((r) => setTimeout(r, 1000));
const rssBefore = rssMiB(single.child.pid!);
const room = await connectMany([single.url], shop.token, SOCKETS);
await new Promise((r) => setTimeout(r, 3000));
const rssAfter = rssMiB(single.child.pid!);

// 3a. Fan-out on one node.
const oneNode = await fanOut(room, staff.socket, product.id);
for (const s of room) s.close();
for (const s of [shop.socket, staff.socket, adminSession.socket]) s.close();
await stopProcess(single.child);

// 3b. Fan-out across 3 nodes sharing Redis.
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

const bareSummary = { ...summary(bareRun.latencies), rps: Math.round(CALLS / bareRun.seconds) };
const cartSummary = { ...summary(cartRun.latencies), rps: Math.round(CALLS / cartRun.seconds) };
const perSocketKiB = ((rssAfter - rssBefore) * 1024) / SOCKETS;
const out = {
  bench: 'ceilings',
  date: new Date().toISOString(),
  machine: machine(),
  roundTrip: {
    calls: CALLS,
    concurrency: CONCURRENCY,
    bareSocketIoAck: bareSummary,
    liliumCartGet: cartSummary,
    ratio: Math.round((cartSummary.rps / bareSummary.rps) * 100) / 100,
  },
  memory: {
    sockets: SOCKETS,
    rssBeforeMiB: Math.round(rssBefore),
    rssAfterMiB: Math.round(rssAfter),
    perSocketKiB: Math.round(perSocketKiB * 10) / 10,
    socketsPerGiBOfRss: Math.round(SOCKETS / (rssAfter / 1024)),
    socketsPerGiBAdded: Math.round((1024 * 1024) / perSocketKiB),
  },
  pushToRoom: { sockets: SOCKETS, pushes: PUSHES, oneNode, threeNodes },
};
writeResult('ceilings.json', JSON.stringify(out, null, 2));
console.log(JSON.stringify(out, null, 2));

await stopAll();
await database.drop();
process.exit(0);
