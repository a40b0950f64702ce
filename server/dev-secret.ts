import { randomBytes } from 'node:crypto';
import { sql } from '../db/sql.js';
import type { SettingRow } from '../db/tables.js';
import type { Db } from '../db/tx.js';

/**
 * The JWT secret of a node started without JWT_SECRET (never allowed in production): generated
 * once per database and kept in its `settings` table, so a restart on the same data keeps sessions
 * and every node of `npm run cluster` signs alike, while no token signed with a published
 * constant is ever accepted. Reading the database already gives full access, so keeping it there
 * opens nothing new.
 */
export async function developmentSecret(db: Db): Promise<string> {
  return db.tx(async (tx) => {
    await tx.query(sql`INSERT INTO settings (key, value) VALUES ('dev_jwt_secret', ${randomBytes(32).toString('base64url')}) ON CONFLICT (key) DO NOTHING`);
    const [row] = await tx.query<Pick<SettingRow, 'value'>>(sql`SELECT value FROM settings WHERE key = 'dev_jwt_secret'`);
    return row!.value;
  });
}
