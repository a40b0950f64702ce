import type { TemplatedApp } from 'uWebSockets.js';
import { asyncApiDocument } from '../../protocol/asyncapi.js';
import type { Deps } from '../deps.js';
import { asyncRoute, send, sendJson } from './respond.js';

const VERSION = '0.1.0';

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function probe(check: () => Promise<unknown>): Promise<'ok' | 'down'> {
  try {
    await within(1000, check());
    return 'ok';
  } catch {
    return 'down';
  }
}

/** The thin HTTP side: health, readiness, metrics and the AsyncAPI document. */
export function mountHttpRoutes(app: TemplatedApp, deps: Deps, isDraining: () => boolean): void {
  const started = Date.now();
  const asyncApi = JSON.stringify(asyncApiDocument({ version: VERSION, host: `${deps.config.host}:${deps.config.port}` }));

  app.get('/health', (res) => sendJson(res, 200, { status: 'ok', version: VERSION, uptimeS: Math.round((Date.now() - started) / 1000), uws: 'native' }));

  app.get(
    '/ready',
    asyncRoute(async (res, aborted) => {
      const redis = deps.redis;
      const [database, redisState] = await Promise.all([probe(() => deps.db.ping()), redis ? probe(() => redis.ping()) : Promise.resolve('off' as const)]);
      if (aborted()) return;
      const ok = database === 'ok' && redisState !== 'down' && !isDraining();
      const status = isDraining() ? 'draining' : ok ? 'ready' : database === 'ok' ? 'degraded' : 'unavailable';
      sendJson(res, ok ? 200 : 503, { status, database, redis: redisState });
    }),
  );

  app.get('/metrics', (res) => send(res, 200, deps.metrics.render(), 'text/plain; version=0.0.4; charset=utf-8'));
  app.get('/asyncapi.json', (res) => send(res, 200, asyncApi, 'application/json; charset=utf-8'));
}

export function mountNotFound(app: TemplatedApp): void {
  app.any('/*', (res) => sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'no such route' } }));
}
