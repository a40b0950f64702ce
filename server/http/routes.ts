import { createHash, timingSafeEqual } from 'node:crypto';
import { clientAddressOf } from '../client-address.js';
import { BlockList, isIP } from 'node:net';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import type { Deps } from '../deps.js';
import { mountDocs } from './docs.js';
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

/** Addresses and subnets (`10.0.0.0/8`) as a BlockList, which also matches IPv4-mapped IPv6 peers. */
function addressList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address);
    if (!family) throw new Error(`METRICS_ALLOW: ${JSON.stringify(entry)} is not an address or subnet`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Metrics name every event and the load of the node: only listed addresses, or the bearer of METRICS_TOKEN, may read them. */
function metricsAccess(deps: Deps): (res: HttpResponse, req: HttpRequest) => boolean {
  const allowed = addressList(deps.config.metrics.allow);
  const token = deps.config.metrics.token;
  return (res, req) => {
    const bearer = /^Bearer (.+)$/i.exec(req.getHeader('authorization'))?.[1];
    if (token && bearer && timingSafeEqual(digest(bearer), digest(token))) return true;
    const remote = Buffer.from(res.getRemoteAddressAsText()).toString();
    const address = clientAddressOf({ 'x-forwarded-for': req.getHeader('x-forwarded-for') }, remote, deps.config.trustProxy) ?? '';
    const family = isIP(address);
    return family !== 0 && allowed.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/** The thin HTTP side: health, readiness, metrics, the AsyncAPI document and its page. */
export function mountHttpRoutes(app: TemplatedApp, deps: Deps, isDraining: () => boolean): void {
  const started = Date.now();

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

  const mayReadMetrics = metricsAccess(deps);
  const metrics = asyncRoute(async (res, aborted) => {
    const text = await deps.metrics.render();
    if (!aborted()) send(res, 200, text, deps.metrics.contentType);
  });
  app.get('/metrics', (res, req) => {
    if (!mayReadMetrics(res, req))
      return sendJson(res, 403, { error: { code: 'FORBIDDEN', message: 'metrics are served to METRICS_ALLOW addresses or with METRICS_TOKEN' } });
    metrics(res, req);
  });
  // The document describes the wire, so it carries the wire's version, not the server's.
  mountDocs(app, deps, PROTOCOL_VERSION);
}

export function mountNotFound(app: TemplatedApp): void {
  app.any('/*', (res) => sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'no such route' } }));
}
