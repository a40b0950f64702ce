import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
let nodeA: string;
let nodeB: string;
beforeAll(async () => {
  h = await startHarness({ redis: true });
  [nodeA, nodeB] = (await Promise.all([h.spawnNode(), h.spawnNode()])).map((n) => n.url) as [string, string];
});
afterAll(() => h.close());

const push = (s: Awaited<ReturnType<Harness['login']>>, room: string, reconnectInMs: number) =>
  call(s.socket, 'test:push' as 'me:get', { room, event: 'server:shutdown', data: { reconnectInMs } } as never);

test('a push to a room on node A reaches a client on node B through Redis, and the in-process node too', async () => {
  const sender = await h.login('admin@demo.lilium', { url: nodeA });
  const onB = await h.login('shop1@demo.lilium', { url: nodeB });
  const onMain = await h.login('shop1@demo.lilium');
  const onA = await h.login('shop1@demo.lilium', { url: nodeA });
  const pushed = [onB, onMain, onA].map((s) => h.next(s.socket, 'server:shutdown'));
  await push(sender, `user:${onB.userId}`, 123);
  expect(await Promise.all(pushed)).toEqual([{ reconnectInMs: 123 }, { reconnectInMs: 123 }, { reconnectInMs: 123 }]);
});

test('a push reaches only its room', async () => {
  const sender = await h.login('admin@demo.lilium', { url: nodeB });
  const target = await h.login('shop2@demo.lilium', { url: nodeA });
  const bystander = await h.login('shop3@demo.lilium', { url: nodeA });
  const seen: number[] = [];
  bystander.socket.on('server:shutdown', (p) => seen.push(p.reconnectInMs));
  const toTarget = h.next(target.socket, 'server:shutdown');
  await push(sender, `user:${target.userId}`, 1);
  await toTarget;
  // Pushes to one socket arrive in order: once the bystander has its own, nothing else came before it.
  const toBystander = h.next(bystander.socket, 'server:shutdown');
  await push(sender, `user:${bystander.userId}`, 2);
  await toBystander;
  expect(seen).toEqual([2]);
});
