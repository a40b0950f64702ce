import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { codeOf, fails } from './support/expect.js';
import { startHarness, type Harness, type Session } from './support/harness.js';

let h: Harness;
let shop: Session;
let zoneId: string;
beforeAll(async () => {
  h = await startHarness();
  shop = await h.login('shop1@demo.lilium');
  zoneId = (await call(shop.socket, 'me:get', {})).zoneIds[0]!;
});
afterAll(() => h.close());

test('the first address becomes the default; a new default replaces the old; deleting the default promotes another', async () => {
  // The seed gives every shop its door: start from none.
  for (const { id } of (await call(shop.socket, 'addresses:list', {})).items) await call(shop.socket, 'addresses:delete', { id });
  const home = await call(shop.socket, 'addresses:create', { label: 'Shop', line: '12 Rasheed St', zoneId });
  expect(home.isDefault).toBe(true);
  const store = await call(shop.socket, 'addresses:create', { label: 'Store', line: '3 Abu Nuwas St', zoneId, location: { lat: 33.3, lng: 44.4 } });
  expect(store.isDefault).toBe(false);
  const third = await call(shop.socket, 'addresses:create', { label: 'Back door', line: 'Alley 4', zoneId, isDefault: true });
  expect(third.isDefault).toBe(true);
  let list = (await call(shop.socket, 'addresses:list', {})).items;
  expect(list.filter((a) => a.isDefault).map((a) => a.id)).toEqual([third.id]);
  expect(list[0]!.id).toBe(third.id);

  await call(shop.socket, 'addresses:set-default', { id: home.id });
  await call(shop.socket, 'addresses:delete', { id: home.id });
  list = (await call(shop.socket, 'addresses:list', {})).items;
  expect(list).toHaveLength(2);
  expect(list.filter((a) => a.isDefault)).toHaveLength(1);

  const moved = await call(shop.socket, 'addresses:update', { id: store.id, line: '5 Abu Nuwas St', notes: 'ring twice' });
  expect(moved).toMatchObject({ line: '5 Abu Nuwas St', notes: 'ring twice', location: { lat: 33.3, lng: 44.4 } });
});

test('addresses need an active zone', async () => {
  await fails(call(shop.socket, 'addresses:create', { label: 'x', line: 'y', zoneId: '00000000-0000-4000-8000-000000000000' }), 'NOT_FOUND', {
    zoneIds: ['00000000-0000-4000-8000-000000000000'],
  });
});

test("another shop's address is not found for this one", async () => {
  const other = await h.login('shop2@demo.lilium');
  const theirs = await call(other.socket, 'addresses:create', {
    label: 'Theirs',
    line: 'Far away',
    zoneId: (await call(other.socket, 'me:get', {})).zoneIds[0]!,
  });
  expect(await codeOf(call(shop.socket, 'addresses:update', { id: theirs.id, label: 'Mine' }))).toBe('NOT_FOUND');
  expect(await codeOf(call(shop.socket, 'addresses:delete', { id: theirs.id }))).toBe('NOT_FOUND');
  expect(await codeOf(call(shop.socket, 'addresses:set-default', { id: theirs.id }))).toBe('NOT_FOUND');
});
