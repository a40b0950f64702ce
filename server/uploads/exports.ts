import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { actorOf, type Ctx } from '../rpc/context.js';
import { FILES_PREFIX, FOLDERS } from './uploads.service.js';

/** Writes a CSV download and answers its URL. Recorded as an unattached upload, so the daily sweep removes it. */
export async function saveExport(ctx: Ctx, body: string): Promise<string> {
  const id = randomUUID();
  const path = `${FOLDERS.export}/${id}.csv`;
  await mkdir(join(ctx.deps.config.uploadDir, FOLDERS.export), { recursive: true });
  await writeFile(join(ctx.deps.config.uploadDir, path), body);
  await ctx.deps.db.query(`INSERT INTO uploads (id, owner_id, kind, path, mime, bytes) VALUES ($1, $2, 'csv', $3, 'text/csv', $4)`, [
    id,
    actorOf(ctx).userId,
    path,
    Buffer.byteLength(body),
  ]);
  return `${FILES_PREFIX}${path}`;
}
