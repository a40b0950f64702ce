import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from '../../db/sql.js';
import type { Config } from '../config.js';
import { actorOf, type Ctx } from '../rpc/context.js';
import { FILES_PREFIX, FOLDERS } from './uploads.service.js';

/** A key of its own for download links, derived from the server secret so a link can never pass for a token. */
const keyOf = (config: Config) => createHmac('sha256', config.jwt.secret).update('lilium export links').digest();
const signatureOf = (config: Config, path: string, expires: number) => createHmac('sha256', keyOf(config)).update(`${path}\n${expires}`).digest('base64url');

/**
 * Whether a download link is the one the server handed out and has not expired. An export is someone's money or
 * catalogue: the link, given only to the account that asked for it, is what opens it, for EXPORT_URL_TTL_S.
 */
export function verifyExportLink(config: Config, path: string, expires: string | null, signature: string | null, now = Date.now()): boolean {
  if (!expires || !signature || !/^\d{1,12}$/.test(expires) || Number(expires) * 1000 < now) return false;
  const want = Buffer.from(signatureOf(config, path, Number(expires)));
  const got = Buffer.from(signature);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Writes a CSV download and answers its signed, expiring URL. Recorded as an unattached upload, so the daily sweep removes it. */
export async function saveExport(ctx: Ctx, body: string): Promise<string> {
  const id = randomUUID();
  const path = `${FOLDERS.export}/${id}.csv`;
  await mkdir(join(ctx.deps.config.uploadDir, FOLDERS.export), { recursive: true });
  await writeFile(join(ctx.deps.config.uploadDir, path), body);
  await ctx.query(
    sql`INSERT INTO uploads (id, owner_id, kind, path, mime, bytes) VALUES (${id}, ${actorOf(ctx).userId}, 'csv', ${path}, 'text/csv', ${Buffer.byteLength(body)})`,
  );
  const expires = Math.floor(Date.now() / 1000) + ctx.deps.config.exportUrlTtlS;
  return `${FILES_PREFIX}${path}?expires=${expires}&signature=${signatureOf(ctx.deps.config, path, expires)}`;
}
