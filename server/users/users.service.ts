import type { Role } from '../../protocol/common.js';
import { likeContaining, sql } from '../../db/sql.js';
import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { User } from '../../protocol/users.js';
import type { UserRow, VendorZoneRow } from '../../db/tables.js';
import { audit } from '../audit.js';
import { revokeSessions } from '../auth/auth.service.js';
import { clearFailures } from '../auth/lockout.js';
import { hashPassword } from '../auth/passwords.js';
import { newOpaqueToken } from '../auth/tokens.js';
import { notify } from '../notifications/notify.js';
import { refreshUserSockets } from '../auth/session.js';
import { assertInZones, assertWithinZones, mergeZones, zoneScope } from '../auth/zone-scope.js';
import { mapConstraintErrors } from '../db-errors.js';
import { AppError, forbidden, notFound } from '../errors.js';
import { afterCursor, page } from '../pagination.js';
import { actorOf, type Ctx, type TxCtx } from '../rpc/context.js';
import type { Actor } from '../auth/actor.js';
import type { Reader } from '../../db/tx.js';
import { assertActiveZones } from '../zones/zones.service.js';
import { canAssignRole, canManage, manageableSql, type Target } from './scope.js';
import { USER_COLUMNS, USER_FROM, findUser, toUser, type UserView } from '../auth/user-view.js';

const VENDOR_ROLES: readonly Role[] = ['VENDOR', 'COMPANY_MANAGER'];
/** Roles whose zones are their own (drivers: where they deliver; admins: where they are limited). */
const OWN_ZONE_ROLES: readonly Role[] = ['DRIVER', 'ADMIN'];
const CONFLICT = 'another account has this email or phone';
/** The unique indexes that keep a login naming one account, by the field they guard. */
const LOGIN_INDEXES: Record<string, 'email' | 'phone'> = { users_email_key: 'email', users_phone_key: 'phone' };

/** Writes an account's email or phone; one taken by another account is CONFLICT `{ field }`. */
function writeLogins<T>(work: () => Promise<T>): Promise<T> {
  return mapConstraintErrors(async () => {
    try {
      return await work();
    } catch (err) {
      const { code, constraint } = err as { code?: string; constraint?: string };
      const field = code === '23505' && constraint ? LOGIN_INDEXES[constraint] : undefined;
      if (field) throw new AppError('CONFLICT', `another account has this ${field}`, { field });
      throw err;
    }
  }, CONFLICT);
}

const toTarget = (u: UserView): Target => ({ id: u.id, role: u.role, vendorId: u.vendor_id, zoneIds: u.zone_ids });

async function loadManaged(ctx: TxCtx, actor: Actor, id: string): Promise<UserView> {
  const [row] = await ctx.query<UserView>(sql`SELECT ${USER_COLUMNS} FROM ${USER_FROM} WHERE u.id = ${id} AND u.deleted_at IS NULL FOR UPDATE OF u`);
  if (!row) throw notFound('user');
  await assertInZones(ctx, actor, 'user', id);
  if (!canManage(actor, toTarget(row))) throw forbidden('this account is outside what you manage');
  return row;
}

async function vendorZones(r: Reader, vendorId: string): Promise<string[]> {
  const rows = await r.query<Pick<VendorZoneRow, 'zone_id'>>(sql`SELECT zone_id FROM vendor_zones WHERE vendor_id = ${vendorId}`);
  return rows.map((z) => z.zone_id);
}

/** A zone-limited admin places accounts only inside its zones: with a vendor it reaches (staff, fleet drivers), others in its zones. */
async function checkZoneLimit(r: Reader, actor: Actor, role: Role, vendorId: string | null, zones: string[]): Promise<void> {
  if (vendorId) await assertInZones(r, actor, 'vendor', vendorId);
  if (!VENDOR_ROLES.includes(role)) assertWithinZones(actor, zones);
}

async function assertVendor(r: Reader, vendorId: string): Promise<void> {
  if ((await r.query(sql`SELECT 1 FROM vendors WHERE id = ${vendorId}`)).length === 0) throw notFound('vendor');
}

/** Checks the role's companions (vendor, shop, zones) and answers the zones the account will live in. */
async function shapeFor(r: Reader, role: Role, vendorId: string | null, zoneIds: string[] | undefined, shopZone: string | null): Promise<string[]> {
  if (VENDOR_ROLES.includes(role) && !vendorId) throw new AppError('BAD_REQUEST', `a ${role} needs a vendorId`);
  if (!VENDOR_ROLES.includes(role) && role !== 'DRIVER' && vendorId) throw new AppError('BAD_REQUEST', `a ${role} has no vendor`);
  if (zoneIds?.length && !OWN_ZONE_ROLES.includes(role)) throw new AppError('BAD_REQUEST', `a ${role} takes its zones from its shop or vendor`);
  if (vendorId) await assertVendor(r, vendorId);
  await assertActiveZones(r, zoneIds ?? []);
  if (role === 'SHOP_OWNER') return shopZone ? [shopZone] : [];
  if (VENDOR_ROLES.includes(role)) return vendorZones(r, vendorId!);
  return zoneIds ?? [];
}

export async function createUser(ctx: Ctx, input: ParsedInputOf<'users:create'>): Promise<ResultOf<'users:create'>> {
  const actor = actorOf(ctx);
  if (!canAssignRole(actor, input.role)) throw forbidden(`a ${actor.role} may not create a ${input.role}`);
  const vendorId = actor.role === 'COMPANY_MANAGER' ? (input.vendorId ?? actor.vendorId) : (input.vendorId ?? null);
  if (actor.role === 'COMPANY_MANAGER' && vendorId !== actor.vendorId) throw forbidden('a manager creates staff of its own vendor only');
  if ((input.role === 'SHOP_OWNER') !== !!input.shop)
    throw new AppError('BAD_REQUEST', input.shop ? 'only a SHOP_OWNER has a shop' : 'a SHOP_OWNER needs a shop');
  // Without a password nobody knows it until the user sets their own through the link they are sent.
  const hash = await hashPassword(ctx, input.password ?? newOpaqueToken().token);
  return ctx.tx(async (ctx) => {
    if (input.shop) await assertActiveZones(ctx, [input.shop.zoneId]);
    const zones = await shapeFor(ctx, input.role, vendorId, input.zoneIds, input.shop?.zoneId ?? null);
    await checkZoneLimit(ctx, actor, input.role, vendorId, zones);
    const [row] = await writeLogins(() =>
      ctx.query<Pick<UserRow, 'id'>>(sql`
        INSERT INTO users (role, name, email, phone, password_hash, vendor_id, locale)
        VALUES (${input.role}, ${input.name}, ${input.email?.toLowerCase() ?? null}, ${input.phone ?? null}, ${hash}, ${vendorId}, ${input.locale ?? null})
        RETURNING id`),
    );
    const id = row!.id;
    if (OWN_ZONE_ROLES.includes(input.role)) await setZones(ctx, id, input.zoneIds ?? []);
    if (input.shop) await ctx.query(sql`INSERT INTO shops (owner_id, name, zone_id) VALUES (${id}, ${input.shop.name}, ${input.shop.zoneId})`);
    await audit(ctx, 'USER_CREATE', { type: 'user', id }, { role: input.role, vendorId, setupLink: !input.password });
    await welcome(ctx, id, input);
    return (await findUser(ctx, id))!;
  });
}

/**
 * Tells a new user their account exists; one created without a password also gets a one-time link to set theirs
 * (a reset token with its own lifetime), by email to an email login, else by SMS.
 */
async function welcome(ctx: TxCtx, userId: string, input: ParsedInputOf<'users:create'>): Promise<void> {
  const { accountSetupTtlS, publicUrl } = ctx.deps.config;
  const vars = { name: input.name, hours: Math.ceil(accountSetupTtlS / 3600) };
  if (input.password) return notify(ctx, { kind: 'account.created', userIds: [userId], vars });
  const token = newOpaqueToken();
  await ctx.query(sql`
    INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES (${token.hash}, ${userId}, now() + make_interval(secs => ${accountSetupTtlS}))`);
  const direct = input.email ? { channel: 'email' as const, address: input.email } : { channel: 'sms' as const, address: input.phone! };
  await notify(ctx, {
    kind: 'account.created',
    userIds: [userId],
    vars,
    direct: { ...direct, secretVars: { link: `${publicUrl}/set-password?token=${token.token}` } },
  });
}

async function setZones(ctx: TxCtx, userId: string, zoneIds: string[]): Promise<void> {
  await ctx.query(sql`DELETE FROM user_zones WHERE user_id = ${userId}`);
  if (zoneIds.length) await ctx.query(sql`INSERT INTO user_zones (user_id, zone_id) SELECT ${userId}, unnest(${[...new Set(zoneIds)]}::uuid[])`);
}

export async function listUsers(ctx: Ctx, input: ParsedInputOf<'users:list'>): Promise<ResultOf<'users:list'>> {
  const actor = actorOf(ctx);
  const where = [
    sql`((${manageableSql(actor, sql`x`)} AND ${zoneScope(actor, 'user', sql`x.id`)}) OR x.id = ${actor.userId})`,
    afterCursor(input.cursor, [
      [sql`x.created_at`, 'timestamptz'],
      [sql`x.id`, 'uuid'],
    ]),
  ];
  if (input.q) {
    const like = likeContaining(input.q);
    where.push(sql`(x.name ILIKE ${like} OR x.email ILIKE ${like} OR x.phone ILIKE ${like})`);
  }
  if (input.role) where.push(sql`x.role = ${input.role}`);
  if (input.status) where.push(sql`x.status = ${input.status}`);
  if (input.vendorId) where.push(sql`x.vendor_id = ${input.vendorId}`);
  if (input.zoneId) where.push(sql`${input.zoneId}::uuid = ANY(x.zone_ids)`);
  const rows = await ctx.query<UserView & { created_key: string }>(sql`
    SELECT * FROM (SELECT ${USER_COLUMNS}, u.created_at::text AS created_key FROM ${USER_FROM} WHERE u.deleted_at IS NULL) x
     WHERE ${sql.and(where)} ORDER BY x.created_at DESC, x.id DESC LIMIT ${input.limit + 1}`);
  return page(
    rows,
    input.limit,
    (r) => toUser(r, ctx.deps.config.defaultLocale),
    (r) => [r.created_key, r.id],
  );
}

export async function getUser(ctx: Ctx, { id }: ParsedInputOf<'users:get'>): Promise<User> {
  const actor = actorOf(ctx);
  if (id === actor.userId) return (await findUser(ctx, id))!;
  return ctx.tx(async (ctx) => toUser(await loadManaged(ctx, actor, id), ctx.deps.config.defaultLocale));
}

export async function updateUser(ctx: Ctx, input: ParsedInputOf<'users:update'>): Promise<ResultOf<'users:update'>> {
  const actor = actorOf(ctx);
  const hash = input.password ? await hashPassword(ctx, input.password) : null;
  return ctx.tx(async (ctx) => {
    const current = await loadManaged(ctx, actor, input.id);
    const role = input.role ?? current.role;
    if (role !== current.role) {
      if (!canAssignRole(actor, role)) throw forbidden(`a ${actor.role} may not make an account ${role}`);
      if ((role === 'SHOP_OWNER') !== !!current.shop_id)
        throw new AppError('BAD_REQUEST', 'an account cannot become or stop being a shop owner; create a new one');
    }
    const keepsVendor = VENDOR_ROLES.includes(role) || role === 'DRIVER';
    const vendorId = input.vendorId !== undefined ? input.vendorId : keepsVendor ? current.vendor_id : null;
    if (actor.role === 'COMPANY_MANAGER' && vendorId !== actor.vendorId) throw forbidden('a manager keeps staff in its own vendor');
    const heldZones = OWN_ZONE_ROLES.includes(current.role) ? current.zone_ids : [];
    const ownZones = OWN_ZONE_ROLES.includes(role) ? (input.zoneIds ? mergeZones(actor, heldZones, input.zoneIds, (z) => z) : heldZones) : undefined;
    await shapeFor(ctx, role, vendorId, ownZones ?? input.zoneIds, current.shop_id ? current.zone_ids[0]! : null);
    if (vendorId && vendorId !== current.vendor_id) await assertInZones(ctx, actor, 'vendor', vendorId);

    // An email or phone given as null clears it; one left out keeps it.
    const email = input.email === undefined ? sql`email` : sql`${input.email?.toLowerCase() ?? null}`;
    const phone = input.phone === undefined ? sql`phone` : sql`${input.phone}`;
    await writeLogins(() =>
      ctx.query(sql`
        UPDATE users SET name = coalesce(${input.name ?? null}, name), email = ${email}, phone = ${phone},
               role = ${role}, vendor_id = ${vendorId}, password_hash = coalesce(${hash}, password_hash), updated_at = now()
         WHERE id = ${input.id}`),
    );
    if (ownZones) await setZones(ctx, input.id, ownZones);
    else if (OWN_ZONE_ROLES.includes(current.role)) await setZones(ctx, input.id, []);
    if (role !== current.role) await audit(ctx, 'ROLE_CHANGE', { type: 'user', id: input.id }, { from: current.role, to: role });
    await audit(ctx, 'USER_UPDATE', { type: 'user', id: input.id }, { fields: Object.keys(input).filter((k) => k !== 'id') });
    // The role travels with every session, and a password change must end the old ones.
    if (role !== current.role || hash) await revokeSessions(ctx, input.id, role !== current.role ? 'role changed' : 'password set by an admin');
    else ctx.afterCommit(() => refreshUserSockets(ctx.deps, input.id));
    return (await findUser(ctx, input.id))!;
  });
}

function notSelf(actor: Actor, id: string): void {
  if (actor.userId === id) throw forbidden('you cannot do this to your own account');
}

export async function setUserStatus(ctx: Ctx, input: ParsedInputOf<'users:set-status'>): Promise<ResultOf<'users:set-status'>> {
  const actor = actorOf(ctx);
  notSelf(actor, input.id);
  return ctx.tx(async (ctx) => {
    await loadManaged(ctx, actor, input.id);
    await ctx.query(sql`UPDATE users SET status = ${input.status}, updated_at = now() WHERE id = ${input.id}`);
    if (input.status === 'DISABLED') await revokeSessions(ctx, input.id, 'account disabled');
    await audit(ctx, 'USER_STATUS', { type: 'user', id: input.id }, { status: input.status, reason: input.reason });
    return (await findUser(ctx, input.id))!;
  });
}

export async function deleteUser(ctx: Ctx, { id }: ParsedInputOf<'users:delete'>): Promise<ResultOf<'users:delete'>> {
  const actor = actorOf(ctx);
  notSelf(actor, id);
  return ctx.tx(async (ctx) => {
    await loadManaged(ctx, actor, id);
    await ctx.query(sql`UPDATE users SET deleted_at = now(), status = 'DISABLED', updated_at = now() WHERE id = ${id}`);
    await revokeSessions(ctx, id, 'account deleted');
    await audit(ctx, 'USER_DELETE', { type: 'user', id });
    return { id };
  });
}

export async function unlockUser(ctx: Ctx, { id }: ParsedInputOf<'users:unlock'>): Promise<ResultOf<'users:unlock'>> {
  const actor = actorOf(ctx);
  return ctx.tx(async (ctx) => {
    const user = await loadManaged(ctx, actor, id);
    await clearFailures(ctx, user.id);
    await audit(ctx, 'USER_UNLOCK', { type: 'user', id });
    return { id };
  });
}

export async function updateMe(ctx: Ctx, input: ParsedInputOf<'me:update'>): Promise<ResultOf<'me:update'>> {
  const actor = actorOf(ctx);
  return ctx.tx(async (ctx) => {
    await writeLogins(() =>
      ctx.query(sql`
        UPDATE users SET name = coalesce(${input.name ?? null}, name), email = coalesce(${input.email?.toLowerCase() ?? null}, email),
               phone = coalesce(${input.phone ?? null}, phone), locale = coalesce(${input.locale ?? null}, locale), updated_at = now()
         WHERE id = ${actor.userId}`),
    );
    return (await findUser(ctx, actor.userId))!;
  });
}
