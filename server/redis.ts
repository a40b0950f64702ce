import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/** Connects and waits for the first answer, so a wrong REDIS_URL stops the start instead of a node running alone. */
export async function connectRedis(url: string, log: Logger, name: string): Promise<Redis> {
  const redis = new Redis(url, { connectionName: name, maxRetriesPerRequest: 2, enableReadyCheck: true, lazyConnect: true });
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
