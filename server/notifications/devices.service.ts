import { ECDH } from 'node:crypto';
import { isIP } from 'node:net';
import type { DeviceApp, ParsedInputOf, ResultOf, Role } from '../../protocol/index.js';
import type { Device, PushSubscription } from '../../protocol/devices.js';
import { sql } from '../../db/sql.js';
import type { DeviceRow, PushSubscriptionRow } from '../../db/tables.js';
import { AppError, notFound } from '../errors.js';
import { actorOf, type Ctx } from '../rpc/context.js';

/** Every push fans out to all of a user's targets at once: beyond this many, the least recently seen go. */
export const MAX_TARGETS_PER_USER = 10;

const APP_OF: Partial<Record<Role, DeviceApp>> = { SHOP_OWNER: 'shop', DRIVER: 'driver' };

const DEVICE_COLUMNS = sql`token, platform, app, created_at, last_seen_at`;

const toDevice = (d: Pick<DeviceRow, 'token' | 'platform' | 'app' | 'created_at' | 'last_seen_at'>): Device => ({
  token: d.token,
  platform: d.platform as Device['platform'],
  app: d.app as Device['app'],
  createdAt: new Date(d.created_at).toISOString(),
  lastSeenAt: new Date(d.last_seen_at).toISOString(),
});

const toSubscription = (s: Pick<PushSubscriptionRow, 'endpoint' | 'created_at'>): PushSubscription => ({
  endpoint: s.endpoint,
  createdAt: new Date(s.created_at).toISOString(),
});

/** A refusal shaped like the input validation's, for checks zod cannot make (they depend on config or on curve maths). */
const badInput = (event: string, path: string, message: string) =>
  new AppError('BAD_REQUEST', `invalid input for ${event}`, [{ path, code: 'custom', message }]);

export async function registerDevice(ctx: Ctx, input: ParsedInputOf<'devices:register'>): Promise<ResultOf<'devices:register'>> {
  const actor = actorOf(ctx);
  const app = APP_OF[actor.role];
  if (input.app !== app) throw new AppError('FORBIDDEN', `a ${actor.role} registers the ${app} app`, app ? { reason: 'app', app } : { reason: 'role' });
  return ctx.tx(async (ctx) => {
    // A token names one install: when another user signs in on that phone, the token is theirs from now on.
    const [row] = await ctx.query<DeviceRow>(sql`
      INSERT INTO devices (token, user_id, platform, app) VALUES (${input.token}, ${actor.userId}, ${input.platform}, ${input.app})
      ON CONFLICT (token) DO UPDATE SET user_id = EXCLUDED.user_id, platform = EXCLUDED.platform, app = EXCLUDED.app, last_seen_at = now(),
             created_at = CASE WHEN devices.user_id = EXCLUDED.user_id THEN devices.created_at ELSE now() END
      RETURNING ${DEVICE_COLUMNS}`);
    await ctx.query(sql`
      DELETE FROM devices WHERE user_id = ${actor.userId} AND token NOT IN (
        SELECT token FROM devices WHERE user_id = ${actor.userId} ORDER BY last_seen_at DESC, token LIMIT ${MAX_TARGETS_PER_USER})`);
    return toDevice(row!);
  });
}

export async function unregisterDevice(ctx: Ctx, { token }: ParsedInputOf<'devices:unregister'>): Promise<ResultOf<'devices:unregister'>> {
  const { userId } = actorOf(ctx);
  return ctx.tx(async (ctx) => {
    const gone = await ctx.query(sql`DELETE FROM devices WHERE token = ${token} AND user_id = ${userId} RETURNING token`);
    if (!gone.length) throw notFound('device');
    return { token };
  });
}

export async function vapidKey(ctx: Ctx): Promise<ResultOf<'push:key'>> {
  return { vapidPublicKey: ctx.deps.config.channels.webPush?.publicKey ?? null };
}

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * The server posts to whatever endpoint a browser names, so only a push service's address is taken: https to a
 * host name (push services have them; an IP literal or localhost is refused). Tests may allow plain http to
 * loopback.
 */
function assertEndpoint(endpoint: string, allowHttp: boolean): void {
  const { protocol, hostname } = new URL(endpoint);
  if (allowHttp && protocol === 'http:' && LOOPBACK.includes(hostname)) return;
  if (protocol !== 'https:') throw badInput('push:subscribe', 'endpoint', 'must be an https URL');
  if (hostname === 'localhost' || isIP(hostname) || hostname.startsWith('[')) {
    throw badInput('push:subscribe', 'endpoint', "must name a push service's host, not an address");
  }
}

export async function subscribePush(ctx: Ctx, { endpoint, keys }: ParsedInputOf<'push:subscribe'>): Promise<ResultOf<'push:subscribe'>> {
  const { userId } = actorOf(ctx);
  assertEndpoint(endpoint, ctx.deps.config.webPushAllowHttp);
  try {
    ECDH.convertKey(Buffer.from(keys.p256dh, 'base64url'), 'prime256v1');
  } catch {
    throw badInput('push:subscribe', 'keys.p256dh', 'must be a P-256 public key');
  }
  return ctx.tx(async (ctx) => {
    const [row] = await ctx.query<PushSubscriptionRow>(sql`
      INSERT INTO push_subscriptions (endpoint, user_id, p256dh, auth) VALUES (${endpoint}, ${userId}, ${keys.p256dh}, ${keys.auth})
      ON CONFLICT (endpoint) DO UPDATE SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth,
             created_at = CASE WHEN push_subscriptions.user_id = EXCLUDED.user_id THEN push_subscriptions.created_at ELSE now() END
      RETURNING endpoint, created_at`);
    await ctx.query(sql`
      DELETE FROM push_subscriptions WHERE user_id = ${userId} AND endpoint NOT IN (
        SELECT endpoint FROM push_subscriptions WHERE user_id = ${userId} ORDER BY created_at DESC, endpoint LIMIT ${MAX_TARGETS_PER_USER})`);
    return toSubscription(row!);
  });
}

export async function unsubscribePush(ctx: Ctx, { endpoint }: ParsedInputOf<'push:unsubscribe'>): Promise<ResultOf<'push:unsubscribe'>> {
  const { userId } = actorOf(ctx);
  return ctx.tx(async (ctx) => {
    const gone = await ctx.query(sql`DELETE FROM push_subscriptions WHERE endpoint = ${endpoint} AND user_id = ${userId} RETURNING endpoint`);
    if (!gone.length) throw notFound('push subscription');
    return { endpoint };
  });
}
