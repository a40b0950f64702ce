import type { Socket } from 'node:net';
import { pino } from 'pino';
import { expect, test } from 'vitest';
import { connectRedis } from '../server/redis.js';
import { TEST_REDIS_URL } from './support/env.js';

/** Opens a connection as the server does and counts the writes to its socket while `work` runs. */
async function writesOf(pipelined: boolean, work: (redis: Awaited<ReturnType<typeof connectRedis>>) => Promise<unknown>): Promise<number> {
  const redis = await connectRedis(TEST_REDIS_URL, pino({ level: 'silent' }), 'lilium-test', pipelined);
  try {
    const socket = (redis as unknown as { stream: Socket }).stream;
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    let writes = 0;
    socket.write = ((...args: unknown[]) => (writes++, write(...args))) as Socket['write'];
    await work(redis);
    return writes;
  } finally {
    redis.disconnect();
  }
}

test('the publishing connection sends the commands of one turn of the event loop in one write, the others one by one', async () => {
  // What the sequencer does with a step's pushes: publishes them all at once.
  const burst = (redis: Awaited<ReturnType<typeof connectRedis>>) =>
    Promise.all(Array.from({ length: 20 }, (_, i) => redis.publish('lilium-test-burst', String(i))));
  expect(await writesOf(true, burst)).toBe(1);
  expect(await writesOf(false, burst)).toBe(20);
});
