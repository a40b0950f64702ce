import type { App, Role } from '../../protocol/common.js';
import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { sql } from '../../db/sql.js';
import type { PasswordResetRow, RefreshTokenRow, SessionRow, UserRow } from '../../db/tables.js';
import { audit } from '../audit.js';
import { AppError } from '../errors.js';
import { notify } from '../notifications/notify.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import { findUser } from './user-view.js';
import { loadActor, rooms } from './actor.js';
import { disconnectRooms } from './disconnect.js';
import { clearFailures, forgetAttempt, reserveAttempt, subjectOf } from './lockout.js';
import { admitHashing, hashPassword, passwordMatches } from './passwords.js';
import { hashToken, newOpaqueToken, signAccessToken } from './tokens.js';

const APP_ROLES: Record<App, readonly Role[]> = {
  mobile: ['SHOP_OWNER'],
  driver: ['DRIVER'],
  dashboard: ['VENDOR', 'COMPANY_MANAGER', 'ADMIN', 'SUPER_ADMIN'],
};

export function appFor(role: Role): App {
  return (Object.keys(APP_ROLES) as App[]).find((app) => APP_ROLES[app].includes(role))!;
}

type Credentials = Pick<UserRow, 'id' | 'role' | 'status' | 'email' | 'phone' | 'password_hash'>;

/** Emails are stored trimmed and lowercase, phones in E.164; a typed phone may have spaces, dashes, brackets or dots. */
export function loginKey(login: string): string {
  const trimmed = login.trim();
  return trimmed.includes('@') ? trimmed.toLowerCase() : trimmed.replace(/[\s().-]/g, '');
}

/**
 * The one account a login names, or none: an email (it has an @) is looked up by email only and a
 * phone by phone only, and the database keeps each unique and the two shapes apart, so a login can
 * never match two accounts.
 */
async function findCredentials(ctx: Ctx, key: string): Promise<Credentials | undefined> {
  const column = sql.raw(key.includes('@') ? 'email' : 'phone');
  const [found] = await ctx.query<Credentials>(
    sql`SELECT id, role, status, email, phone, password_hash FROM users WHERE ${column} = ${key} AND deleted_at IS NULL`,
  );
  return found;
}

/** Signs a new pair for a session and, once committed, authenticates the calling socket with it. */
async function issuePair(ctx: TxCtx, userId: string, sessionId: string) {
  const { config } = ctx.deps;
  const refresh = newOpaqueToken();
  await ctx.query(sql`
    INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES (${refresh.hash}, ${sessionId}, now() + make_interval(secs => ${config.jwt.refreshTtlS}))`);
  const actor = await loadActor(ctx, userId, sessionId);
  if (!actor) throw new AppError('UNAUTHENTICATED', 'this account cannot sign in');
  const access = signAccessToken(config, userId, sessionId);
  ctx.afterCommit(() => ctx.bindSocket?.({ actor, expiresAt: access.expiresAt }));
  return { accessToken: access.token, refreshToken: refresh.token, expiresIn: config.jwt.accessTtlS };
}

/** Ends sessions of a user (all, or all but one) and disconnects their sockets on every node once committed. */
export async function revokeSessions(ctx: TxCtx, userId: string, reason: string, keep: string | null = null): Promise<void> {
  const revoked = await ctx.query<Pick<SessionRow, 'id'>>(sql`
    UPDATE sessions SET revoked_at = now(), revoked_reason = ${reason}
     WHERE user_id = ${userId} AND revoked_at IS NULL AND id IS DISTINCT FROM ${keep}::uuid RETURNING id`);
  ctx.afterCommit(() => disconnectRooms(ctx.deps, keep ? revoked.map((s) => rooms.session(s.id)) : [rooms.user(userId)]));
}

export async function login(ctx: Ctx, input: ParsedInputOf<'auth:login'>): Promise<ResultOf<'auth:login'>> {
  const key = loginKey(input.login);
  // A place in the hashing gate first: a flood is turned away before it costs the database anything.
  using pass = admitHashing(ctx);
  const found = await findCredentials(ctx, key);
  const attempt = await reserveAttempt(ctx, subjectOf(found?.id ?? null, key));
  const matches = await passwordMatches(ctx, pass, input.password, found?.password_hash ?? null).catch(async (err: unknown) => {
    await forgetAttempt(ctx, attempt);
    throw err;
  });
  if (!found || !matches || found.status !== 'ACTIVE') {
    await ctx.tx(async (ctx) => {
      const target = found ? { type: 'user', id: found.id } : null;
      await ctx.query(sql`UPDATE login_failures SET pending = false WHERE id = ${attempt.id}`);
      await audit(ctx, 'LOGIN_FAILED', target, { login: key, app: input.app });
      if (attempt.locks) await audit(ctx, 'LOCKOUT', target, { login: key });
    });
    throw new AppError('UNAUTHENTICATED', 'wrong login or password');
  }
  // Only this attempt goes: earlier failures keep counting for their window, so an owner signing in does not hand a guesser new tries.
  await forgetAttempt(ctx, attempt);
  const role = found.role as Role;
  if (!APP_ROLES[input.app].includes(role)) {
    throw new AppError('FORBIDDEN', `a ${role} signs in with the ${appFor(role)} app`, { reason: 'app', app: appFor(role) });
  }
  return ctx.tx(async (ctx) => {
    const [session] = await ctx.query<Pick<SessionRow, 'id'>>(sql`INSERT INTO sessions (user_id, app) VALUES (${found.id}, ${input.app}) RETURNING id`);
    const pair = await issuePair(ctx, found.id, session!.id);
    await audit(ctx, 'LOGIN', { type: 'user', id: found.id }, { app: input.app, session: session!.id });
    return { ...pair, user: (await findUser(ctx, found.id))! };
  });
}

type RefreshOutcome = { ok: true; pair: ResultOf<'auth:refresh'> } | { ok: false; message: string };

export async function refresh(ctx: Ctx, input: ParsedInputOf<'auth:refresh'>): Promise<ResultOf<'auth:refresh'>> {
  const hash = hashToken(input.refreshToken);
  // The outcome commits even when it is a refusal: a reused token must stay revoked.
  const outcome = await ctx.tx(async (ctx): Promise<RefreshOutcome> => {
    const [spent] = await ctx.query<Pick<RefreshTokenRow, 'session_id'> & Pick<SessionRow, 'user_id'>>(sql`
      UPDATE refresh_tokens t SET used_at = now() FROM sessions s
       WHERE t.token_hash = ${hash} AND t.used_at IS NULL AND t.expires_at > now() AND s.id = t.session_id AND s.revoked_at IS NULL
       RETURNING t.session_id, s.user_id`);
    if (spent) return { ok: true, pair: await issuePair(ctx, spent.user_id, spent.session_id) };
    const [known] = await ctx.query<Pick<RefreshTokenRow, 'session_id'> & Pick<SessionRow, 'user_id'> & { used: boolean; revoked: boolean }>(sql`
      SELECT t.session_id, s.user_id, t.used_at IS NOT NULL AS used, s.revoked_at IS NOT NULL AS revoked
        FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = ${hash}`);
    if (known?.used && !known.revoked) {
      // A spent token came back: someone holds a copy. End the whole family.
      await ctx.query(sql`UPDATE sessions SET revoked_at = now(), revoked_reason = 'refresh token reuse' WHERE id = ${known.session_id}`);
      await audit(ctx, 'REFRESH_REUSE', { type: 'user', id: known.user_id }, { session: known.session_id });
      ctx.afterCommit(() => disconnectRooms(ctx.deps, [rooms.session(known.session_id)]));
      return { ok: false, message: 'this refresh token was already used; the session has been ended' };
    }
    return { ok: false, message: 'invalid or expired refresh token' };
  });
  if (!outcome.ok) throw new AppError('UNAUTHENTICATED', outcome.message);
  return outcome.pair;
}

export async function logout(ctx: Ctx): Promise<ResultOf<'auth:logout'>> {
  const actor = actorOf(ctx);
  await ctx.tx(async (ctx) => {
    await ctx.query(sql`UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE id = ${actor.sessionId} AND revoked_at IS NULL`);
    await audit(ctx, 'LOGOUT', { type: 'user', id: actor.userId }, { session: actor.sessionId });
    ctx.afterCommit(() => disconnectRooms(ctx.deps, [rooms.session(actor.sessionId)]));
  });
  return {};
}

export async function changePassword(ctx: Ctx, input: ParsedInputOf<'auth:password:change'>): Promise<ResultOf<'auth:password:change'>> {
  const actor = actorOf(ctx);
  using pass = admitHashing(ctx);
  const [row] = await ctx.query<Pick<UserRow, 'password_hash'>>(sql`SELECT password_hash FROM users WHERE id = ${actor.userId}`);
  if (!row || !(await passwordMatches(ctx, pass, input.currentPassword, row.password_hash)))
    throw new AppError('UNAUTHENTICATED', 'the current password is wrong');
  const hash = await hashPassword(ctx, input.newPassword);
  await ctx.tx(async (ctx) => {
    await ctx.query(sql`UPDATE users SET password_hash = ${hash}, updated_at = now() WHERE id = ${actor.userId}`);
    await revokeSessions(ctx, actor.userId, 'password changed', actor.sessionId);
    await audit(ctx, 'PASSWORD_CHANGE', { type: 'user', id: actor.userId });
  });
  return {};
}

/** The reset link, in plain English until the notification centre renders it in the user's language. */
/** Same answer, and the same work up to the write, whether or not the account exists. */
export async function requestPasswordReset(ctx: Ctx, input: ParsedInputOf<'auth:password-reset:request'>): Promise<ResultOf<'auth:password-reset:request'>> {
  const key = loginKey(input.login);
  const found = await findCredentials(ctx, key);
  const token = newOpaqueToken();
  if (found && found.status === 'ACTIVE') {
    await ctx.tx(async (ctx) => {
      await ctx.query(sql`
        INSERT INTO password_resets (token_hash, user_id, expires_at)
        VALUES (${token.hash}, ${found.id}, now() + make_interval(secs => ${ctx.deps.config.passwordResetTtlS}))`);
      // To the login that was typed: an email login by email, a phone login by SMS.
      const byEmail = key.includes('@') ? true : !found.phone;
      const { passwordResetTtlS, publicUrl } = ctx.deps.config;
      await notify(ctx, {
        kind: 'account.password_reset',
        userIds: [found.id],
        vars: { minutes: Math.ceil(passwordResetTtlS / 60) },
        direct: {
          channel: byEmail ? 'email' : 'sms',
          address: (byEmail ? found.email : found.phone)!,
          secretVars: { link: `${publicUrl}/reset-password?token=${token.token}` },
        },
      });
      await audit(ctx, 'PASSWORD_RESET_REQUEST', { type: 'user', id: found.id });
    });
  }
  return {};
}

export async function confirmPasswordReset(ctx: Ctx, input: ParsedInputOf<'auth:password-reset:confirm'>): Promise<ResultOf<'auth:password-reset:confirm'>> {
  const tokenHash = hashToken(input.token);
  // The token is checked before any hashing: a guessed token must cost no more than a lookup.
  const [valid] = await ctx.query(sql`SELECT 1 FROM password_resets WHERE token_hash = ${tokenHash} AND used_at IS NULL AND expires_at > now()`);
  if (!valid) throw new AppError('UNAUTHENTICATED', 'the reset token is invalid, used or expired');
  const hash = await hashPassword(ctx, input.newPassword);
  await ctx.tx(async (ctx) => {
    const [reset] = await ctx.query<Pick<PasswordResetRow, 'user_id'>>(sql`
      UPDATE password_resets SET used_at = now() WHERE token_hash = ${tokenHash} AND used_at IS NULL AND expires_at > now() RETURNING user_id`);
    if (!reset) throw new AppError('UNAUTHENTICATED', 'the reset token is invalid, used or expired');
    await ctx.query(sql`UPDATE users SET password_hash = ${hash}, updated_at = now() WHERE id = ${reset.user_id}`);
    await clearFailures(ctx, reset.user_id);
    await revokeSessions(ctx, reset.user_id, 'password reset');
    await audit(ctx, 'PASSWORD_RESET', { type: 'user', id: reset.user_id });
  });
  return {};
}
