import { existsSync, readdirSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { sweepOrphans } from '../server/uploads/uploads.service.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { pngBytes, upload } from './support/images.js';

const dir = mkdtempSync(join(tmpdir(), 'lilium-uploads-'));
let h: Harness;
let staff: Session;
beforeAll(async () => {
  h = await startHarness({ env: { UPLOAD_DIR: dir, UPLOAD_MAX_BYTES: String(200 * 1024) } });
  staff = await h.login('vendor1@demo.lilium');
});
afterAll(() => h.close());

test('an image is stored under a new name with a thumbnail and served back', async () => {
  const png = await pngBytes(400);
  const res = await upload(h.url, staff.accessToken, png, { filename: '../../evil name.png' });
  expect(res.status).toBe(201);
  expect(res.body.url).toMatch(/^\/files\/images\/[0-9a-f-]{36}\.png$/);
  const served = await fetch(`${h.url}${res.body.url}`);
  expect(served.headers.get('content-type')).toBe('image/png');
  expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true);
  const thumb = await fetch(`${h.url}${res.body.thumbnailUrl}`);
  expect(thumb.headers.get('content-type')).toBe('image/webp');
  expect((await thumb.arrayBuffer()).byteLength).toBeGreaterThan(0);
});

test('the type comes from the bytes: a renamed text file is refused', async () => {
  const res = await upload(h.url, staff.accessToken, Buffer.from('#!/bin/sh\necho not an image\n'), { filename: 'photo.png', type: 'image/png' });
  expect(res.status).toBe(415);
});

test('a file with image magic bytes that is not really an image is refused', async () => {
  const res = await upload(h.url, staff.accessToken, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100, 7)]));
  expect(res.status).toBe(415);
});

test('an oversize upload is refused with 413', async () => {
  const res = await upload(h.url, staff.accessToken, Buffer.concat([await pngBytes(), Buffer.alloc(300 * 1024)]));
  expect(res.status).toBe(413);
});

test('uploads need a valid bearer token; CSV imports need catalogue staff', async () => {
  expect((await upload(h.url, null, await pngBytes())).status).toBe(401);
  expect((await upload(h.url, 'not-a-token', await pngBytes())).status).toBe(401);
  const shop = await h.login('shop1@demo.lilium');
  expect((await upload(h.url, shop.accessToken, Buffer.from('a,b\n1,2\n'), { kind: 'csv', type: 'text/csv' })).status).toBe(403);
});

test('/files/ serves only names the server made: no traversal', async () => {
  for (const path of [
    '/files/images/../../package.json',
    '/files/%2e%2e/%2e%2e/package.json',
    '/files/imports/x.csv',
    '/files/images/abc.png',
    '/files/..%2fpackage.json',
  ]) {
    expect((await fetch(`${h.url}${path}`)).status, path).toBe(404);
  }
});

test('an upload nobody attaches is removed after a day; an attached one stays', async () => {
  const orphan = await upload(h.url, staff.accessToken, await pngBytes());
  const used = await upload(h.url, staff.accessToken, await pngBytes());
  const sugar = (await call(staff.socket, 'categories:tree', {})).items.flatMap((c) => c.children).find((c) => c.slug === 'sugar')!;
  await call(staff.socket, 'products:create', {
    sku: 'IMG-1',
    name: { ar: 'صورة', en: 'Pictured' },
    categoryId: sugar.id,
    price: 1,
    unit: 'PIECE',
    images: [used.body.url],
  });
  await h.q(`UPDATE uploads SET created_at = now() - interval '2 days'`);
  const file = (url: string) => join(dir, url.replace('/files/', ''));
  expect(existsSync(file(orphan.body.url))).toBe(true);
  // Other tests' uploads are a day old now too: every unattached one goes, this one among them.
  const [{ n: orphans }] = (await h.q<{ n: number }>('SELECT count(*)::int AS n FROM uploads WHERE attached_at IS NULL')) as [{ n: number }];
  expect(orphans).toBeGreaterThanOrEqual(1);
  expect(await sweepOrphans(h.app.deps)).toBe(orphans);
  expect(await h.q('SELECT 1 FROM uploads WHERE attached_at IS NULL')).toEqual([]);
  expect(existsSync(file(orphan.body.url))).toBe(false);
  expect(existsSync(file(orphan.body.thumbnailUrl!))).toBe(false);
  expect(existsSync(file(used.body.url))).toBe(true);
});

/** Every file under the upload folder, so a test can show that a refusal left nothing behind. */
const filesIn = (root: string) =>
  readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();

/** A real PNG whose header claims other dimensions (a pixel flood: a few bytes that would decode to gigabytes). */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await pngBytes(16));
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

describe('refused images', () => {
  test('a PNG claiming 30000×30000 pixels is refused with its reason before anything is kept', async () => {
    const before = filesIn(dir);
    const rows = (await h.q('SELECT count(*)::int AS n FROM uploads'))[0];
    const res = await upload(h.url, staff.accessToken, await pngClaiming(30_000, 30_000));
    expect(res).toEqual({
      status: 422,
      body: {
        error: {
          code: 'BAD_REQUEST',
          message: 'images are limited to 25000000 pixels',
          details: { reason: 'IMAGE_TOO_LARGE', width: 30_000, height: 30_000, maxPixels: 25_000_000 },
        },
      },
    });
    expect(filesIn(dir)).toEqual(before);
    expect((await h.q('SELECT count(*)::int AS n FROM uploads'))[0]).toEqual(rows);
  });

  test('an image that does not decode is refused and leaves no file behind', async () => {
    const before = filesIn(dir);
    const png = await pngBytes(200);
    for (const bytes of [png.subarray(0, png.length - 40), Buffer.concat([png.subarray(0, 8), Buffer.alloc(100, 7)])]) {
      const res = await upload(h.url, staff.accessToken, bytes);
      expect(res).toEqual({
        status: 415,
        body: { error: { code: 'BAD_REQUEST', message: 'the image could not be read', details: { reason: 'UNREADABLE_IMAGE' } } },
      });
    }
    expect(await upload(h.url, staff.accessToken, Buffer.from('just text'))).toEqual({
      status: 415,
      body: { error: { code: 'BAD_REQUEST', message: 'not a JPEG, PNG, GIF or WebP image', details: { reason: 'NOT_AN_IMAGE' } } },
    });
    expect(filesIn(dir)).toEqual(before);
  });
});

describe('upload rate', () => {
  let limited: Harness;
  beforeAll(async () => {
    limited = await startHarness({ env: { UPLOAD_DIR: mkdtempSync(join(tmpdir(), 'lilium-uploads-')), UPLOAD_BURST: '2', UPLOAD_RATE_PER_MIN: '1' } });
  });
  afterAll(() => limited.close());

  test('each user has a budget of uploads; beyond it, 429 with when to retry', async () => {
    const vendor = await limited.login('vendor1@demo.lilium');
    const png = await pngBytes();
    expect((await upload(limited.url, vendor.accessToken, png)).status).toBe(201);
    expect((await upload(limited.url, vendor.accessToken, png)).status).toBe(201);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'photo.png');
    const res = await fetch(`${limited.url}/uploads`, { method: 'POST', body: form, headers: { authorization: `Bearer ${vendor.accessToken}` } });
    expect(res.status).toBe(429);
    const body = (await res.json()) as { error: { details: { retryInMs: number } } };
    expect(body).toEqual({ error: { code: 'RATE_LIMITED', message: 'too many uploads; slow down', details: { retryInMs: expect.any(Number) } } });
    // One a minute: the wait is close to a minute, and the header says it in seconds.
    expect(body.error.details.retryInMs).toBeGreaterThan(30_000);
    expect(body.error.details.retryInMs).toBeLessThanOrEqual(60_000);
    expect(Number(res.headers.get('retry-after'))).toBe(Math.ceil(body.error.details.retryInMs / 1000));
    const other = await limited.login('vendor2@demo.lilium');
    expect((await upload(limited.url, other.accessToken, png)).status).toBe(201);
  });
});
