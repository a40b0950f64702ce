import bcrypt from 'bcrypt';
import type { App, Role } from '../../protocol/common.js';
import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Tx } from '../../db/tx.js';
import { AppError } from '../errors.js';
import type { Ctx } from '../rpc/context.js';
import { findUser } from '../users/users.read.js';
import { loadActor } from './actor.js';
import { newOpaqueToken, signAccessToken } from './tokens.js';

const APP_ROLES: Record<App, readonly Role[]> = {
  mobile: ['SHOP_OWNER'],
  driver: ['DRIVER'],
  dashboard: ['VENDOR', 'COMPANY_MANAGER', 'ADMIN', 'SUPER_ADMIN'],
};

export function appFor(role: Role): App {
  return (Object.keys(APP_ROLES) as App[]).find((app) => APP_ROLES[app].includes(role))!;
}

/** Compared against when the login matches no account, so both answers take as long. */
let decoyHash: string | undefined;
async function decoy(cost: number): Promise<string> {
  decoyHash ??= await bcrypt.hash('lilium-decoy-password', cost);
  return decoyHash;
}

interface Credentials {
  id: string;
  role: Role;
  status: string;
  password_hash: string;
}

export function normalizeLogin(login: string): { email: string } | { phone: string } {
  const trimmed = login.trim();
  return trimmed.includes('@') ? { email: trimmed.toLowerCase() } : { phone: trimmed.replace(/[\s-]/g, '') };
}

/** Opens a session (one refresh-token family) and signs its first pair. */
export async function openSession(ctx: Ctx, tx: Tx, userId: string, app: App) {
  const [session] = await tx.query<{ id: string }>('INSERT INTO sessions (user_id, app) VALUES ($1, $2) RETURNING id', [userId, app]);
  return issuePair(ctx, tx, userId, session!.id);
}

export async function issuePair(ctx: Ctx, tx: Tx, userId: string, sessionId: string) {
  const { config } = ctx.deps;
  const refresh = newOpaqueToken();
  await tx.query(`INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))`, [
    refresh.hash,
    sessionId,
    config.jwt.refreshTtlS,
  ]);
  const access = signAccessToken(config, userId, sessionId);
  const actor = await loadActor(tx, userId, sessionId);
  if (!actor) throw new AppError('UNAUTHENTICATED', 'this account cannot sign in');
  tx.afterCommit(() => ctx.bindSocket?.({ actor, expiresAt: access.expiresAt }));
  return { accessToken: access.token, refreshToken: refresh.token, expiresIn: config.jwt.accessTtlS, sessionId };
}

export async function login(ctx: Ctx, input: ParsedInputOf<'auth:login'>): Promise<ResultOf<'auth:login'>> {
  const by = normalizeLogin(input.login);
  const [found] = await ctx.read((r) =>
    r.query<Credentials>(
      'email' in by
        ? 'SELECT id, role, status, password_hash FROM users WHERE lower(email) = $1 AND deleted_at IS NULL'
        : 'SELECT id, role, status, password_hash FROM users WHERE phone = $1 AND deleted_at IS NULL',
      ['email' in by ? by.email : by.phone],
    ),
  );
  const matches = await bcrypt.compare(input.password, found?.password_hash ?? (await decoy(ctx.deps.config.bcryptCost)));
  if (!found || !matches || found.status !== 'ACTIVE') throw new AppError('UNAUTHENTICATED', 'wrong login or password');
  if (!APP_ROLES[input.app].includes(found.role)) {
    throw new AppError('FORBIDDEN', `a ${found.role} signs in with the ${appFor(found.role)} app`, { app: appFor(found.role) });
  }
  return ctx.tx(async (tx) => {
    const { sessionId: _, ...pair } = await openSession(ctx, tx, found.id, input.app);
    const user = await findUser(tx, found.id);
    return { ...pair, user: user! };
  });
}
