import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { default as Sharp } from 'sharp';
import type { FileRefusal } from '../../protocol/errors.js';
import { sql } from '../../db/sql.js';
import type { UploadRow } from '../../db/tables.js';
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import type { TxCtx } from '../rpc/context.js';
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

/** The HTTP status each refusal of a file for what it is answers with. */
const REFUSED_STATUS = { NOT_AN_IMAGE: 415, NOT_TEXT: 415, UNREADABLE_IMAGE: 415, IMAGE_TOO_LARGE: 422 } as const satisfies Record<
  FileRefusal['reason'],
  number
>;

/** A file refused for what it is: BAD_REQUEST { reason, … }, and nothing of it kept. */
export const refused = (message: string, details: FileRefusal) => new AppError('BAD_REQUEST', message, details);

/** The refusal (and its HTTP status) that `err` is, or null when it is some other failure. */
export function refusalOf(err: unknown): { status: number; error: AppError<'BAD_REQUEST'> & { details: FileRefusal } } | null {
  const reason = err instanceof AppError && err.code === 'BAD_REQUEST' ? (err.details as { reason?: unknown } | undefined)?.reason : undefined;
  return typeof reason === 'string' && reason in REFUSED_STATUS
    ? { status: REFUSED_STATUS[reason as FileRefusal['reason']], error: err as AppError<'BAD_REQUEST'> & { details: FileRefusal } }
    : null;
}

/**
 * sharp (and libvips under it, some 20 MiB of resident memory) is loaded with the first image, not at start: a
 * node that is never sent one never maps it.
 */
let sharpModule: Promise<typeof Sharp> | undefined;
const loadSharp = () => (sharpModule ??= import('sharp').then((m) => m.default));

/**
 * Decodes the whole image and makes its thumbnail in memory, before anything is written. The size
 * in the header is checked first, and sharp's `limitInputPixels` guards the decoder itself, so a
 * small file claiming huge dimensions (a pixel flood) is refused without being expanded.
 */
async function thumbnailOf(body: Buffer, maxPixels: number): Promise<Buffer> {
  const sharp = await loadSharp();
  const unreadable = () => refused('the image could not be read', { reason: 'UNREADABLE_IMAGE' });
  // The header alone: metadata decodes no pixels, so it may read dimensions beyond the limit to report them.
  const meta = await sharp(body, { limitInputPixels: false })
    .metadata()
    .catch(() => null);
  if (!meta?.width || !meta.height) throw unreadable();
  if (meta.width * meta.height > maxPixels)
    throw refused(`images are limited to ${maxPixels} pixels`, { reason: 'IMAGE_TOO_LARGE', width: meta.width, height: meta.height, maxPixels });
  try {
    return await sharp(body, { limitInputPixels: maxPixels })
      .rotate()
      .resize(320, 320, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
  } catch {
    throw unreadable();
  }
}

/**
 * Checks the file (an image must decode within the pixel limit), then writes it under a fresh name
 * with its thumbnail and records it as not yet attached. A failure at any step removes what was written.
 */
export async function storeUpload(deps: Pick<Deps, 'config' | 'db'>, ownerId: string, type: Sniffed, body: Buffer): Promise<Stored> {
  const thumbnail = type.kind === 'image' ? await thumbnailOf(body, deps.config.uploads.maxPixels) : null;
  const id = randomUUID();
  const folder = FOLDERS[type.kind];
  const path = `${folder}/${id}.${type.ext}`;
  const thumb = thumbnail ? `${FOLDERS.thumb}/${id}.webp` : null;
  const root = deps.config.uploadDir;
  try {
    await mkdir(join(root, folder), { recursive: true });
    await writeFile(join(root, path), body, { flag: 'wx' });
    if (thumb && thumbnail) {
      await mkdir(join(root, FOLDERS.thumb), { recursive: true });
      await writeFile(join(root, thumb), thumbnail, { flag: 'wx' });
    }
    await deps.db.query(
      sql`INSERT INTO uploads (id, owner_id, kind, path, mime, bytes, thumb_path) VALUES (${id}, ${ownerId}, ${type.kind}, ${path}, ${type.mime}, ${body.length}, ${thumb})`,
    );
  } catch (err) {
    await Promise.all([path, thumb].map((p) => p && rm(join(root, p), { force: true })));
    throw err;
  }
  return { id, url: urlOf(path), thumbnailUrl: thumb ? urlOf(thumb) : null, mime: type.mime, bytes: body.length };
}

/** Marks uploads as in use (by their served URLs), so the orphan sweep keeps them. */
export async function attachUploads(ctx: TxCtx, urls: string[]): Promise<void> {
  const paths = urls.filter((u) => u.startsWith(FILES_PREFIX)).map((u) => u.slice(FILES_PREFIX.length));
  if (paths.length) await ctx.query(sql`UPDATE uploads SET attached_at = now() WHERE path = ANY(${paths}::text[]) AND attached_at IS NULL`);
}

/** Removes uploads nobody attached within a day, files and rows. */
export async function sweepOrphans(deps: Pick<Deps, 'config' | 'db'>): Promise<number> {
  const gone = await deps.db.query<Pick<UploadRow, 'path' | 'thumb_path'>>(
    sql`DELETE FROM uploads WHERE attached_at IS NULL AND created_at < now() - interval '1 day'
       AND NOT EXISTS (SELECT 1 FROM import_jobs j WHERE j.upload_id = uploads.id) RETURNING path, thumb_path`,
  );
  for (const g of gone) {
    for (const p of [g.path, g.thumb_path]) if (p) await rm(join(deps.config.uploadDir, p), { force: true });
  }
  return gone.length;
}
