import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { sql } from '../db/sql.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { fails } from './support/expect.js';
import { startHarness, type Harness, type Session } from './support/harness.js';

let h: Harness;
let admin: Session, staff: Session;
let productId: string;
beforeAll(async () => {
  h = await startHarness({ env: { STOCK_PUSH_INTERVAL_MS: '1' } });
  [admin, staff] = (await Promise.all(['admin@demo.lilium', 'vendor1@demo.lilium'].map((e) => h.login(e)))) as [Session, Session];
  productId = (
    await h.q<{ id: string }>(`SELECT p.id FROM products p JOIN users u ON u.vendor_id = p.vendor_id WHERE u.email = 'vendor1@demo.lilium' LIMIT 1`)
  )[0]!.id;
});
afterAll(() => h.close());

const waitForSeq = async (s: Session, seq: number) => {
  for (;;) {
    const { lastSeq } = await call(s.socket, 'feed:sync', { afterSeq: seq - 1, limit: 1 });
    if (lastSeq >= seq) return;
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('feed:sync returns what a disconnected client missed, for its rooms only, in order, once', async () => {
  const shop = await h.login('shop1@demo.lilium');
  const { lastSeq: start } = await call(shop.socket, 'feed:sync', { afterSeq: 0 });
  shop.socket.close();

  const vendors = (await call(admin.socket, 'vendors:list', { status: 'APPROVED' })).items;
  for (const v of vendors.slice(0, 3)) {
    await call(admin.socket, 'vendors:set-status', { id: v.id, status: 'SUSPENDED', reason: 'feed test' });
    await call(admin.socket, 'vendors:set-status', { id: v.id, status: 'APPROVED', reason: 'feed test' });
  }
  for (let i = 0; i < 5; i++) await call(staff.socket, 'stock:adjust', { productId, delta: 1, reason: 'feed', idempotencyKey: randomUUID() });

  const back = await h.login('shop1@demo.lilium');
  const myZone = (await call(back.socket, 'me:get', {})).zoneIds[0]!;
  const top = (await h.q<{ top: number }>('SELECT max(seq)::int AS top FROM outbox'))[0]!.top;
  await waitForSeq(back, top);
  const got = [];
  let after = start;
  for (;;) {
    const page = await call(back.socket, 'feed:sync', { afterSeq: after, limit: 3 });
    got.push(...page.events);
    after = page.lastSeq;
    if (!page.hasMore) break;
  }
  const seqs = got.map((e) => e.seq);
  expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
  const mine = await h.q<{ seq: number }>('SELECT seq FROM outbox WHERE seq > $1 AND $2 = ANY(rooms) ORDER BY seq', [start, `zone:${myZone}`]);
  expect(seqs).toEqual(mine.map((r) => r.seq));
  // Each vendor that serves the shop's zone was suspended and approved again: two pushes each.
  const serving = vendors.slice(0, 3).filter((v) => v.zones.some((z) => z.zoneId === myZone)).length;
  expect(serving).toBeGreaterThan(0);
  expect(got.filter((e) => e.event === 'vendor:status')).toHaveLength(2 * serving);
});

test('a push committed later never gets a seq below one already published', async () => {
  // Hold a transaction with an outbox row open while later ones commit and publish.
  const db = h.app.deps.db;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const slow = db.tx(async (tx) => {
    await tx.query(sql`INSERT INTO outbox (rooms, event, data) VALUES ('{admins}', 'vendor:status', '{"late":true}')`);
    await held;
  });
  const before = (await h.q<{ top: number }>('SELECT coalesce(max(seq), 0)::int AS top FROM outbox'))[0]!.top;
  await call(staff.socket, 'stock:adjust', { productId, delta: 1, reason: 'fast', idempotencyKey: randomUUID() });
  for (;;) {
    const [row] = await h.q<{ top: number }>('SELECT coalesce(max(seq), 0)::int AS top FROM outbox');
    if (row!.top > before) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const published = (await h.q<{ top: number }>('SELECT max(seq)::int AS top FROM outbox'))[0]!.top;
  release();
  await slow;
  h.app.deps.sequencer.kick();
  for (;;) {
    const [late] = await h.q<{ seq: number | null }>(`SELECT seq FROM outbox WHERE data ? 'late'`);
    if (late?.seq) {
      expect(late.seq).toBeGreaterThan(published);
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
});

test('a rolled-back change leaves no push', async () => {
  const before = (await h.q<{ n: number }>('SELECT count(*)::int AS n FROM outbox'))[0]!.n;
  const [{ stock }] = (await h.q<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [productId])) as [{ stock: number }];
  await fails(call(staff.socket, 'stock:adjust', { productId, delta: -10_000_000, reason: 'too much', idempotencyKey: randomUUID() }), 'INSUFFICIENT_STOCK', {
    products: [{ productId, requested: 10_000_000, available: stock }],
  });
  await fails(call(admin.socket, 'vendors:set-status', { id: randomUUID(), status: 'APPROVED', reason: 'no such vendor' }), 'NOT_FOUND');
  expect((await h.q<{ n: number }>('SELECT count(*)::int AS n FROM outbox'))[0]!.n).toBe(before);
  expect(await h.q('SELECT 1 FROM stock_dirty')).toHaveLength(0);
});

test('a stock level due is published in the same sequencer statement as the rows committed before it, numbered after them', async () => {
  const shop = await h.login('shop1@demo.lilium');
  const zone = (await call(shop.socket, 'me:get', {})).zoneIds[0]!;
  const [product] = await h.q<{ id: string }>(
    `SELECT p.id FROM products p JOIN product_zones pz ON pz.product_id = p.id JOIN users u ON u.vendor_id = p.vendor_id
      WHERE u.email = 'vendor1@demo.lilium' AND pz.zone_id = $1 LIMIT 1`,
    [zone],
  );
  const heard: Array<{ event: string; seq: number }> = [];
  const listen = shop.socket as unknown as { on(e: string, f: (p: { seq: number; data: Record<string, unknown> }) => void): void };
  listen.on('vendor:status', (p) => p.data.oneStep && heard.push({ event: 'vendor:status', seq: p.seq }));
  listen.on('stock:changed', (p) => p.data.productId === product!.id && heard.push({ event: 'stock:changed', seq: p.seq }));

  // Count what the sequencer's own connection sends from the commit on, and which statement answered the level.
  const proto = pg.Client.prototype as unknown as {
    query: (...args: unknown[]) => Promise<{ rows: Array<{ event?: string; data?: { productId?: string } }> }>;
  };
  const original = proto.query;
  const sent: boolean[] = [];
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    const result = original.apply(this, args);
    if ((this as unknown as { connectionParameters: { application_name?: string } }).connectionParameters.application_name !== 'lilium-sequencer')
      return result;
    const k = sent.push(false) - 1;
    return result.then((r) => {
      sent[k] = r.rows.some((row) => row.event === 'stock:changed' && row.data?.productId === product!.id);
      return r;
    });
  };
  try {
    const sequencer = h.app.deps.sequencer as unknown as { running: boolean; kick(): void };
    while (sequencer.running) await new Promise((r) => setTimeout(r, 1));
    await h.app.deps.db.tx(async (tx) => {
      await tx.query(sql`INSERT INTO outbox (rooms, event, data) VALUES (${[`zone:${zone}`]}, 'vendor:status', '{"oneStep":true}')`);
      await tx.query(sql`INSERT INTO stock_dirty (product_id) VALUES (${product!.id}) ON CONFLICT DO NOTHING`);
    });
    sent.length = 0;
    sequencer.kick();
    while (heard.length < 2) await new Promise((r) => setTimeout(r, 5));
  } finally {
    proto.query = original;
  }
  expect(sent.indexOf(true)).toBe(0);
  expect(heard.map((e) => e.event)).toEqual(['vendor:status', 'stock:changed']);
  expect(heard[1]!.seq).toBe(heard[0]!.seq + 1);
  const stored = await h.q<{ seq: number }>(
    `SELECT seq::int AS seq FROM outbox WHERE event = 'stock:changed' AND data->>'productId' = $1 ORDER BY id DESC LIMIT 1`,
    [product!.id],
  );
  expect(stored[0]!.seq).toBe(heard[1]!.seq);
  expect(await h.q('SELECT 1 FROM stock_dirty')).toHaveLength(0);
  shop.socket.close();
});
