import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { call, RpcError } from '../protocol/client.js';
import { pushes, type Envelope, type Order } from '../protocol/index.js';
import {
  createLiveClient,
  tokensFrom,
  type LiveClient,
  type LiveClientOptions,
  type LiveState,
  type PushHandlers,
  type Tokens,
} from '../protocol/live-client.js';
import { hashToken } from '../server/auth/tokens.js';
import { DEMO_PASSWORD } from './support/env.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { key, makeProduct, makeShops, openVendors } from './support/ordering.js';
import { freePorts } from './support/ports.js';
import { spawnScript } from './support/spawn.js';
import { until } from './support/until.js';

// The live client against real nodes: the dashboard rides a spawned node (short-lived access tokens),
// while shops order through the harness's own node (the outbox's sequencer), so every push crosses Redis.

let h: Harness;
let admin: Session, staff: Session;
let vendorId: string, productId: string;
let shops: Session[];
const clients: LiveClient[] = [];

beforeAll(async () => {
  h = await startHarness({ redis: true, env: { RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_S: '100000' } });
  [admin, staff] = (await Promise.all(['admin@demo.lilium', 'vendor1@demo.lilium'].map((e) => h.login(e)))) as [Session, Session];
  vendorId = (await call(staff.socket, 'me:get', {})).vendorId!;
  const zoneId = (await call(admin.socket, 'zones:list', {})).items[0]!.id;
  await openVendors(h, admin, [vendorId]);
  productId = (await makeProduct(h, staff, { stock: 100_000 })).id;
  shops = await makeShops(h, admin, 2, zoneId);
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(() => h.close());

/** A node of its own whose access tokens live 3 s, on a port it keeps across restarts (its clients look for it there). */
async function shortLivedNode() {
  const env = { PORT: String(await freePorts()), ACCESS_TOKEN_TTL_S: '3' };
  return { env, node: await h.spawnNode(env) };
}

async function place(shop: Session): Promise<string> {
  await call(shop.socket, 'cart:add', { productId, quantity: 1 });
  const { orders } = await call(shop.socket, 'cart:checkout', { idempotencyKey: key() });
  return orders[0]!.id;
}

/** The vendor's dashboard on a live client, recording what its handlers get, each token pair, and its states. */
async function dashboard(url: string, options: Partial<LiveClientOptions> = {}) {
  const socket = await h.connect({ url });
  const { user: _user, ...pair } = await call(socket, 'auth:login', { app: 'dashboard', login: 'vendor1@demo.lilium', password: DEMO_PASSWORD });
  socket.close();
  const stored: Envelope<unknown>[] = [];
  const liveOnly: Array<{ event: string; data: unknown }> = [];
  const refreshes: Tokens[] = [];
  const states: LiveState[] = [];
  const signedOut: RpcError[] = [];
  const handlers = Object.fromEntries(
    Object.entries(pushes).map(([event, spec]) => [
      event,
      spec.stored ? (e: Envelope<unknown>) => stored.push(e) : (data: unknown) => liveOnly.push({ event, data }),
    ]),
  ) as PushHandlers;
  const client = createLiveClient({
    url,
    tokens: tokensFrom(pair),
    handlers,
    onTokens: (t) => refreshes.push(t),
    onState: (s) => states.push(s),
    onSignedOut: (err) => signedOut.push(err),
    // Small pages, so catching up takes many, while orders go on arriving live.
    syncPageSize: 2,
    io: { reconnectionDelay: 100, reconnectionDelayMax: 500 },
    ...options,
  });
  clients.push(client);
  await until(async () => client.state === 'live');
  // Started from now: nothing of the backlog is handed on.
  expect(stored).toEqual([]);
  return { client, stored, liveOnly, refreshes, states, signedOut, start: client.lastSeq! };
}
type Dashboard = Awaited<ReturnType<typeof dashboard>>;

/** Live again since it last went offline. */
const backLive = (d: Dashboard) => d.states.lastIndexOf('live') > d.states.lastIndexOf('offline');

/** The handlers got exactly the stored pushes of the dashboard's rooms after its start, each once, in seq order. */
async function expectEveryPushOnce(d: Dashboard): Promise<void> {
  await until(async () => (await h.q('SELECT 1 FROM outbox WHERE seq IS NULL LIMIT 1')).length === 0);
  const rows = await h.q<{ seq: number; event: string }>('SELECT seq::int AS seq, event FROM outbox WHERE seq > $1 AND rooms && $2::text[] ORDER BY seq', [
    d.start,
    [`vendor:${vendorId}`, `user:${staff.userId}`],
  ]);
  await until(async () => (d.client.lastSeq ?? 0) >= rows.at(-1)!.seq);
  expect(d.stored.map((e) => [e.seq, e.event])).toEqual(rows.map((r) => [r.seq, r.event]));
}

const newOrders = (d: Dashboard) =>
  d.stored
    .filter((e) => e.event === 'order:new')
    .map((e) => (e.data as Order).id)
    .sort();

test('its node killed and its token expired while away: the dashboard gets every push from the next node once, in order, and refreshes', async () => {
  const { env, node } = await shortLivedNode();
  const d = await dashboard(node.url);

  // While connected, a stored push arrives live.
  const first = await place(shops[0]!);
  await until(async () => newOrders(d).includes(first));
  // The same envelope again is dropped; a live-only push, sent after it on the same socket, passes through as it is.
  const push = (event: string, data: unknown) => (d.client.socket as Socket).emitWithAck('test:push', { room: `user:${staff.userId}`, event, data });
  await push(
    'order:new',
    d.stored.find((e) => e.event === 'order:new'),
  );
  const location = { orderId: first, driverId: randomUUID(), lat: 33.31, lng: 44.36, at: new Date().toISOString() };
  await push('driver:location', location);
  await until(async () => d.liveOnly.some((p) => p.event === 'driver:location'));
  expect(d.liveOnly.filter((p) => p.event === 'driver:location')).toEqual([{ event: 'driver:location', data: location }]);
  expect(newOrders(d)).toEqual([first]);

  // Killed right after a refresh, so none is in flight (a refresh whose answer dies with the node spends the token).
  const refreshed = d.refreshes.length;
  await until(async () => d.refreshes.length > refreshed);
  node.process.child.kill('SIGKILL');
  await node.process.exited;
  await until(async () => d.client.state === 'offline');
  const held = d.client.tokens;

  // Orders placed while it is away, and its access token runs out.
  const away = (await Promise.all(shops.map(async (s) => [await place(s), await place(s), await place(s), await place(s), await place(s)]))).flat();
  await until(async () => Date.now() > held.expiresAt!);
  const refreshesWhileAway = d.refreshes.length;

  // Orders keep coming while the node restarts and the client catches up, so some arrive live mid-sync.
  let producing = true;
  const during: string[] = [];
  const producer = (async () => {
    while (producing) during.push(await place(shops[1]!));
  })();
  await h.spawnNode(env);
  await until(async () => backLive(d), 60_000);
  const caughtUpAt = during.length;
  await until(async () => during.length >= caughtUpAt + 3);
  producing = false;
  await producer;

  await expectEveryPushOnce(d);
  expect(newOrders(d)).toEqual([first, ...away, ...during].sort());
  // It came back with an expired token: the refresh token it held then is spent, and the new pair works.
  expect(d.refreshes.length).toBeGreaterThan(refreshesWhileAway);
  const [spent] = await h.q<{ used: boolean }>('SELECT used_at IS NOT NULL AS used FROM refresh_tokens WHERE token_hash = $1', [hashToken(held.refreshToken)]);
  expect(spent).toEqual({ used: true });
  expect(d.refreshes.at(-1)).toEqual(d.client.tokens);
  expect((await d.client.call('me:get', {})).id).toBe(staff.userId);
  expect(d.signedOut).toEqual([]);
}, 120_000);

test('a node that drains: the dashboard gets server:shutdown, comes back when a node is there again, and catches up', async () => {
  const { env, node } = await shortLivedNode();
  const d = await dashboard(node.url);
  const refreshed = d.refreshes.length;
  await until(async () => d.refreshes.length > refreshed);
  node.process.child.kill('SIGTERM');
  await node.process.exited;
  await until(async () => d.client.state === 'offline');
  expect(d.liveOnly.filter((p) => p.event === 'server:shutdown')).toEqual([{ event: 'server:shutdown', data: { reconnectInMs: 1000 } }]);

  const away = [await place(shops[0]!), await place(shops[1]!), await place(shops[0]!)];
  await h.spawnNode(env);
  await until(async () => backLive(d), 60_000);
  await expectEveryPushOnce(d);
  expect(newOrders(d)).toEqual([...away].sort());
  expect(d.signedOut).toEqual([]);
}, 120_000);

test('a handshake token the server refuses: the client connects without it, refreshes on the socket, and goes live', async () => {
  const socket = await h.connect();
  const pair = await call(socket, 'auth:login', { app: 'dashboard', login: 'vendor1@demo.lilium', password: DEMO_PASSWORD });
  socket.close();
  const refreshes: Tokens[] = [];
  const client = createLiveClient({
    url: h.url,
    tokens: { accessToken: 'not-a-token', refreshToken: pair.refreshToken },
    lastSeq: 0,
    handlers: {},
    onTokens: (t) => refreshes.push(t),
    io: { reconnectionDelay: 100 },
  });
  clients.push(client);
  await until(async () => client.state === 'live');
  expect(refreshes).toHaveLength(1);
  expect(client.tokens).toEqual(refreshes[0]);
  expect((await client.call('me:get', {})).id).toBe(staff.userId);
  // From seq 0 it went through the whole kept feed.
  const [{ top }] = (await h.q<{ top: number }>('SELECT max(seq)::int AS top FROM outbox')) as [{ top: number }];
  expect(client.lastSeq).toBeGreaterThanOrEqual(top);
});

test('a session ended elsewhere: the client stops, says so, and does not come back', async () => {
  const d = await dashboard(h.url);
  const other = await h.connect({ token: d.client.tokens.accessToken });
  await call(other, 'auth:logout', {});
  await until(async () => d.client.state === 'signedOut');
  expect(d.signedOut.map((e) => ({ code: e.code, details: e.details }))).toEqual([{ code: 'UNAUTHENTICATED', details: undefined }]);
  expect(d.client.socket.connected).toBe(false);
  expect(d.client.socket.active).toBe(false);
});

test('the vendor-feed example follows the order feed against a real server and closes on Ctrl-C', async () => {
  const example = spawnScript('protocol/examples/vendor-feed.ts', [h.url], { LILIUM_PASSWORD: DEMO_PASSWORD });
  try {
    await example.waitFor(/state=live lastSeq=\d+/);
    const id = await place(shops[0]!);
    const [, seq] = await example.waitFor(new RegExp(`order:new seq=(\\d+) order=${id} `));
    // The staff member's own notification of it comes after.
    const [, noted] = await example.waitFor(new RegExp(`notification:new seq=(\\d+) kind=order.new link=${id} `));
    expect(Number(noted)).toBeGreaterThan(Number(seq));
    example.child.kill('SIGINT');
    expect(await example.exited).toMatchObject({ code: 0, signal: null });
    // Where the next run starts: past both (and past what other rooms were given meanwhile, which seqs skip).
    const [, closed] = /closed lastSeq=(\d+)\n/.exec(example.stdout())!;
    expect(Number(closed)).toBeGreaterThanOrEqual(Number(noted));
  } finally {
    example.child.kill('SIGKILL');
  }
}, 60_000);
