import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { call, RpcError } from '../protocol/client.js';
import { startHarness, type Harness, type Session } from './support/harness.js';

const cursor = (parts: unknown) => Buffer.from(JSON.stringify(parts)).toString('base64url');
const at = '2026-11-25 15:22:18.123456+00';
const id = randomUUID();

/** Cursors a client edited: each part is the wrong type for the column it is compared with. */
const byTime = [
  [at, 'not-a-uuid'],
  ['yesterday', id],
  ['2026-02-30 10:00:00+00', id],
  ['2026-11-25 25:61:00+00', id],
  [at.replace('2026', '20260'), id],
  [at, `${id}\u0000`],
];

let h: Harness;
let admin: Session;
let vendor: Session;
beforeAll(async () => {
  h = await startHarness();
  [admin, vendor] = await Promise.all([h.login('admin@demo.lilium'), h.login('vendor1@demo.lilium')]);
});
afterAll(() => h.close());

async function refusal(p: Promise<unknown>) {
  return p.then(
    () => 'answered',
    (e: RpcError) => ({ code: e.code, message: e.message, details: e.details }),
  );
}
const invalid = { code: 'BAD_REQUEST', message: 'invalid cursor', details: undefined };

test.each(['orders:list', 'users:list', 'settlements:list', 'promotions:list'] as const)('%s answers BAD_REQUEST for an edited cursor', async (event) => {
  for (const parts of byTime) {
    expect(await refusal(call(admin.socket, event, { cursor: cursor(parts) } as never)), JSON.stringify(parts)).toEqual(invalid);
  }
});

test('vendors:list answers BAD_REQUEST for an edited cursor', async () => {
  for (const parts of [
    ['Vendor', 'nope'],
    ['Ven\u0000dor', id],
    [1, id],
  ]) {
    expect(await refusal(call(admin.socket, 'vendors:list', { cursor: cursor(parts) })), JSON.stringify(parts)).toEqual(invalid);
  }
});

test('products:list answers BAD_REQUEST for an edited cursor in every sort order', async () => {
  const cases: Array<[Record<string, unknown>, unknown[]]> = [
    [{ sort: 'price_asc' }, ['price_asc', 'cheap', id]],
    [{ sort: 'price_desc' }, ['price_desc', '1e400', id]],
    [{ sort: 'price_desc' }, ['price_desc', '99999999999999999999', id]],
    [{ sort: 'popular' }, ['popular', '99999999999', id]],
    [{ sort: 'newest' }, ['newest', 'last week', id]],
    [{ sort: 'name' }, ['name', 'sugar', 'not-a-uuid']],
    [{ sort: 'price_asc' }, ['price_asc', '5', id.slice(1)]],
    [{ sort: 'relevance', q: 'sugar' }, ['relevance', '-20']],
    [{ sort: 'relevance', q: 'sugar' }, ['relevance', 'many']],
  ];
  for (const [input, parts] of cases) {
    expect(await refusal(call(admin.socket, 'products:list', { ...input, cursor: cursor(parts) } as never)), JSON.stringify(parts)).toEqual(invalid);
  }
});

test('stock:history answers BAD_REQUEST for an edited cursor', async () => {
  // One of its own vendor's products: the catalogue lists every vendor's.
  const { vendorId } = await call(vendor.socket, 'me:get', {});
  const [product] = (await call(vendor.socket, 'products:list', { vendorId: vendorId! })).items;
  for (const parts of [['abc'], ['-1'], ['1.5']]) {
    expect(await refusal(call(vendor.socket, 'stock:history', { productId: product!.id, cursor: cursor(parts) })), JSON.stringify(parts)).toEqual(invalid);
  }
});

test('cursors the server made still page through every list', async () => {
  const first = await call(admin.socket, 'orders:list', { limit: 1 });
  if (first.nextCursor) expect((await call(admin.socket, 'orders:list', { limit: 1, cursor: first.nextCursor })).items).toHaveLength(1);
  for (const sort of ['price_asc', 'price_desc', 'popular', 'newest', 'name'] as const) {
    const page1 = await call(admin.socket, 'products:list', { sort, limit: 2 });
    const page2 = await call(admin.socket, 'products:list', { sort, limit: 2, cursor: page1.nextCursor! });
    expect(page2.items.map((p) => p.id)).not.toContain(page1.items[0]!.id);
    expect(page2.items).toHaveLength(2);
  }
  const users1 = await call(admin.socket, 'users:list', { limit: 2 });
  expect((await call(admin.socket, 'users:list', { limit: 2, cursor: users1.nextCursor! })).items).toHaveLength(2);
  const vendors1 = await call(admin.socket, 'vendors:list', { limit: 1 });
  expect((await call(admin.socket, 'vendors:list', { limit: 1, cursor: vendors1.nextCursor! })).items).toHaveLength(1);
});
