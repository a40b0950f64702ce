import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/**
 * Connects and waits for the first answer, so a wrong REDIS_URL stops the start instead of a node running alone.
 * `pipelined`: commands issued in one turn of the event loop go in one write (ioredis's auto-pipelining): the
 * sequencer publishes a whole step's pushes at once, which would otherwise cost a write and a wake-up of Redis each.
 */
export async function connectRedis(url: string, log: Logger, name: string, pipelined = false): Promise<Redis> {
  const redis = new Redis(url, { connectionName: name, maxRetriesPerRequest: 2, enableReadyCheck: true, lazyConnect: true, enableAutoPipelining: pipelined });
  let lastError = '';
  redis.on('error', (err: Error) => {
    if (err.message !== lastError) log.warn({ err: err.message, name }, 'redis error');
    lastError = err.message;
  });
  redis.on('ready', () => {
    if (lastError) log.info({ name }, 'redis is back');
    lastError = '';
  });
  await redis.connect();
  await redis.ping();
  return redis;
}

/**
 * The Socket.IO adapter publishes without awaiting, so while Redis is down each push would end as an
 * unhandled rejection. Those pushes are only lost to other nodes' live sockets; the outbox and
 * `feed:sync` still hold them. Count them instead of letting them take the process down.
 */
export function countPublishFailures(redis: Redis, failed: () => void): void {
  const publish = redis.publish.bind(redis) as (...args: unknown[]) => Promise<number>;
  Object.assign(redis, {
    publish: (...args: unknown[]) => {
      const sent = publish(...args);
      sent.catch(failed);
      return sent;
    },
  });
}
