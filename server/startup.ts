import { readFile } from 'node:fs/promises';
import type { DataSource } from 'typeorm';
import { AdminError, createFirstAdmin, adminExists, demoLoginsWithPassword } from '../db/seed/admins.js';
import { seedIfEmpty } from '../db/seed/seed.js';
import { withStartupLock } from '../db/startup-lock.js';
import type { Db } from '../db/tx.js';
import { DEFAULT_DEMO_PASSWORD, type Config } from './config.js';
import { developmentSecret } from './dev-secret.js';
import type { Logger } from './logger.js';

/** A node that must not start as configured; the message is one line saying what to do. */
export class StartRefused extends Error {
  override name = 'StartRefused';
}

/** Reads a password from a file as written by an editor or `echo`: one trailing newline is not part of it. */
export async function readPasswordFile(path: string): Promise<string> {
  return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
}

/**
 * Brings the database to where this node can serve: migrations, demo data (development only), the
 * first admin, the development JWT secret, all under the startup lock; then, in production, refuses
 * to go on while a demo login can still sign in with a published password.
 */
export async function prepareDatabase(config: Config, source: DataSource, db: Db, log: Logger): Promise<{ seeded: boolean; jwtSecret: string }> {
  const prepared = await withStartupLock(config.database, async () => {
    await source.runMigrations();
    const seeded = config.seed === 'auto' ? await seedIfEmpty(db, config) : false;
    if (config.bootstrapAdmin) await bootstrapAdmin(db, config.bootstrapAdmin, config.bcryptCost, log);
    const jwtSecret = config.usingDevSecret ? await developmentSecret(db) : config.jwt.secret;
    return { seeded, jwtSecret };
  });
  if (config.env === 'production') await refuseDemoPasswords(db, config.demoPassword);
  return prepared;
}

async function bootstrapAdmin(db: Db, admin: NonNullable<Config['bootstrapAdmin']>, bcryptCost: number, log: Logger): Promise<void> {
  const ignored = 'BOOTSTRAP_ADMIN_EMAIL ignored: an admin already exists (remove the BOOTSTRAP_ADMIN_* variables)';
  if (await adminExists(db)) return void log.warn(ignored);
  let password: string;
  try {
    password = await readPasswordFile(admin.passwordFile);
  } catch (err) {
    throw new StartRefused(`BOOTSTRAP_ADMIN_PASSWORD_FILE cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const outcome = await createFirstAdmin(db, { email: admin.email, name: admin.name, password }, bcryptCost);
    if (outcome === 'admin-exists') return void log.warn(ignored);
    log.info({ email: admin.email }, 'created the first super admin from BOOTSTRAP_ADMIN_EMAIL');
  } catch (err) {
    if (err instanceof AdminError) throw new StartRefused(`BOOTSTRAP_ADMIN_EMAIL: ${err.message}`);
    throw err;
  }
}

async function refuseDemoPasswords(db: Db, demoPassword: string): Promise<void> {
  const open = await demoLoginsWithPassword(db, [DEFAULT_DEMO_PASSWORD, demoPassword]);
  if (open.length === 0) return;
  const named = open.length > 3 ? `${open.slice(0, 3).join(', ')} and ${open.length - 3} more` : open.join(', ');
  throw new StartRefused(
    `demo login${open.length > 1 ? 's' : ''} ${named} still ${open.length > 1 ? 'have' : 'has'} the demo password: ` +
      'run `npm run db -- retire-demo-logins` (or change their passwords) before starting with NODE_ENV=production',
  );
}
