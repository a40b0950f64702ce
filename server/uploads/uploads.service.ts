import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Tx } from '../../db/tx.js';
import type { Deps } from '../deps.js';
import type { Sniffed } from './sniff.js';

export const FILES_PREFIX = '/files/';
/** Where each kind lives under UPLOAD_DIR; only images, thumbnails and exports are served. */
export const FOLDERS = { image: 'images', csv: 'imports', thumb: 'thumbs', export: 'exports' } as const;

export interface Stored {
  id: string;
  url: string;
  thumbnailUrl: string | null;
  mime: string;
  bytes: number;
}

const urlOf = (path: string) => `${FILES_PREFIX}${path}`;

/** Writes the file under a fresh name (and a thumbnail for images), then records it as not yet attached. */
export async function storeUpload(deps: Pick<Deps, 'config' | 'db'>, ownerId: string, type: Sniffed, body: Buffer): Promise<Stored> {
  const id = randomUUID();
  const folder = FOLDERS[type.kind];
  const path = `${folder}/${id}.${type.ext}`;
  const root = deps.config.uploadDir;
  await mkdir(join(root, folder), { recursive: true });
  await writeFile(join(root, path), body, { flag: 'wx' });
  let thumb: string | null = null;
  if (type.kind === 'image') {
    thumb = `${FOLDERS.thumb}/${id}.webp`;
    await mkdir(join(root, FOLDERS.thumb), { recursive: true });
    await sharp(body).rotate().resize(320, 320, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toFile(join(root, thumb));
  }
  await deps.db.query('INSERT INTO uploads (id, owner_id, kind, path, mime, bytes, thumb_path) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
    id,
    ownerId,
    type.kind,
    path,
    type.mime,
    body.length,
    thumb,
  ]);
  return { id, url: urlOf(path), thumbnailUrl: thumb ? urlOf(thumb) : null, mime: type.mime, bytes: body.length };
}

/** Marks uploads as in use (by their served URLs), so the orphan sweep keeps them. */
export async function attachUploads(tx: Pick<Tx, 'query'>, urls: string[]): Promise<void> {
  const paths = urls.filter((u) => u.startsWith(FILES_PREFIX)).map((u) => u.slice(FILES_PREFIX.length));
  if (paths.length) await tx.query('UPDATE uploads SET attached_at = now() WHERE path = ANY($1) AND attached_at IS NULL', [paths]);
}

/** Removes uploads nobody attached within a day, files and rows. */
export async function sweepOrphans(deps: Pick<Deps, 'config' | 'db'>): Promise<number> {
  const gone = await deps.db.query<{ path: string; thumb_path: string | null }>(
    `DELETE FROM uploads WHERE attached_at IS NULL AND created_at < now() - interval '1 day'
       AND NOT EXISTS (SELECT 1 FROM import_jobs j WHERE j.upload_id = uploads.id) RETURNING path, thumb_path`,
  );
  for (const g of gone) {
    for (const p of [g.path, g.thumb_path]) if (p) await rm(join(deps.config.uploadDir, p), { force: true });
  }
  return gone.length;
}
