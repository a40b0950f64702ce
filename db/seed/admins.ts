import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';
import { z } from 'zod';
import { NewPassword } from '../../protocol/auth.js';
import { audit } from '../../server/audit.js';
import { sql } from '../sql.js';
import type { UserRow } from '../tables.js';
import type { Db, Reader } from '../tx.js';
import { demoLogins } from './seed.js';

/** A first admin that cannot be created as asked; the message says why, for the operator. */
export class AdminError extends Error {
  override name = 'AdminError';
}

export interface FirstAdmin {
  email: string;
  name: string;
  password: string;
}

const Email = z.email().max(200);
const Name = z.string().trim().min(1).max(200);

/** The same rule as every password users:create or a password change accepts. */
function checkPassword(password: string): void {
  const parsed = NewPassword.safeParse(password);
  if (parsed.success) return;
  const issue = parsed.error.issues[0]!;
  throw new AdminError(
    issue.code === 'too_small'
      ? `the password must be at least ${issue.minimum} characters`
      : `the password must be at most ${String((issue as { maximum?: number }).maximum)} characters`,
  );
}

/** An admin who can sign in: once one exists, accounts are made with users:create, not from the command line. */
export async function adminExists(r: Reader): Promise<boolean> {
  const rows = await r.query(sql`SELECT 1 FROM users WHERE role IN ('SUPER_ADMIN', 'ADMIN') AND status = 'ACTIVE' AND deleted_at IS NULL LIMIT 1`);
  return rows.length > 0;
}

/**
 * Creates the deployment's first SUPER_ADMIN, or answers 'admin-exists' and creates nothing. Callers
 * hold the startup lock (db/startup-lock.ts), so two of them cannot both find no admin.
 */
export async function createFirstAdmin(db: Db, input: FirstAdmin, bcryptCost: number): Promise<'created' | 'admin-exists'> {
  if (!Email.safeParse(input.email).success) throw new AdminError('the email is not an email address');
  if (!Name.safeParse(input.name).success) throw new AdminError('the name must be 1 to 200 characters');
  checkPassword(input.password);
  const email = input.email.toLowerCase();
  const hash = await bcrypt.hash(input.password, bcryptCost);
  return db.tx(async (tx) => {
    if (await adminExists(tx)) return 'admin-exists';
    const taken = await tx.query(sql`SELECT 1 FROM users WHERE lower(email) = ${email} AND deleted_at IS NULL`);
    if (taken.length > 0) throw new AdminError('another account has this email');
    const [row] = await tx.query<Pick<UserRow, 'id'>>(
      sql`INSERT INTO users (role, name, email, password_hash) VALUES ('SUPER_ADMIN', ${input.name.trim()}, ${email}, ${hash}) RETURNING id`,
    );
    await audit({ query: tx.query, actor: null, clientAddress: null }, 'USER_CREATE', { type: 'user', id: row!.id }, { role: 'SUPER_ADMIN', firstAdmin: true });
    return 'created';
  });
}

/** Demo logins (existing, not deleted) whose password is one of `passwords`, in the order of `demoLogins`. */
export async function demoLoginsWithPassword(db: Db, passwords: string[]): Promise<string[]> {
  const emails = demoLogins.map((d) => d.email);
  const rows = await db.query<{ email: string } & Pick<UserRow, 'password_hash'>>(
    sql`SELECT lower(email) AS email, password_hash FROM users WHERE lower(email) = ANY(${emails}) AND deleted_at IS NULL`,
  );
  // The seed gives every demo login one hash: compare each distinct hash once (bcrypt is slow on purpose).
  const verdicts = new Map<string, Promise<boolean>>();
  const matches = async (hash: string) => {
    for (const password of new Set(passwords)) if (await bcrypt.compare(password, hash)) return true;
    return false;
  };
  const found: string[] = [];
  for (const row of rows) {
    if (!verdicts.has(row.password_hash)) verdicts.set(row.password_hash, matches(row.password_hash));
    if (await verdicts.get(row.password_hash)) found.push(row.email);
  }
  return found.sort((a, b) => emails.indexOf(a) - emails.indexOf(b));
}

/** Disables the demo logins that still have a demo password, gives them an unguessable one and ends their sessions. */
export async function retireDemoLogins(db: Db, passwords: string[], bcryptCost: number): Promise<string[]> {
  const emails = await demoLoginsWithPassword(db, passwords);
  if (emails.length === 0) return [];
  const hash = await bcrypt.hash(randomBytes(32).toString('base64url'), bcryptCost);
  await db.tx(async (tx) => {
    const users = await tx.query<Pick<UserRow, 'id'>>(sql`
      UPDATE users SET status = 'DISABLED', password_hash = ${hash}, updated_at = now() WHERE lower(email) = ANY(${emails}) AND deleted_at IS NULL RETURNING id`);
    const ids = users.map((u) => u.id);
    await tx.query(
      sql`UPDATE sessions SET revoked_at = now(), revoked_reason = 'demo login retired' WHERE user_id = ANY(${ids}::uuid[]) AND revoked_at IS NULL`,
    );
    for (const id of ids)
      await audit({ query: tx.query, actor: null, clientAddress: null }, 'USER_STATUS', { type: 'user', id }, { status: 'DISABLED', demoLoginRetired: true });
  });
  return emails;
}
