import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { sessionFromToken } from '../auth/session.js';
import type { DetailsOf, ErrorCode } from '../../protocol/errors.js';
import type { Deps } from '../deps.js';
import { RateLimiter } from '../rpc/rate-limit.js';
import { FOLDERS, FILES_PREFIX, refusalOf, refused, storeUpload } from '../uploads/uploads.service.js';
import { sniff } from '../uploads/sniff.js';
import { verifyExportLink } from '../uploads/exports.js';
import type { UwsModule } from './uws.js';
import { asyncRoute, sendJson } from './respond.js';

const CATALOG_ROLES = ['SUPER_ADMIN', 'ADMIN', 'COMPANY_MANAGER', 'VENDOR'];
/** Only names the server made itself can be served: no dots, slashes or anything else to climb with. */
const SERVED = new RegExp(`^${FILES_PREFIX}(${FOLDERS.image}|${FOLDERS.thumb}|${FOLDERS.export})/([0-9a-f-]{36})\\.(jpg|png|gif|webp|csv)$`);
const TYPES: Record<string, string> = { jpg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', csv: 'text/csv; charset=utf-8' };

/** An HTTP error answer: the same `{ code, message, details }` as an ack's, typed by the code's schema. */
const fail = <C extends ErrorCode>(res: HttpResponse, status: number, code: C, message: string, details?: DetailsOf<C>, headers?: Record<string, string>) =>
  sendJson(res, status, { error: { code, message, ...(details === undefined ? {} : { details }) } }, headers);

/** Reads a whole body, refusing (413) past `limit` bytes without buffering the rest. */
function readBody(res: HttpResponse, limit: number, onBody: (body: Buffer) => void, onTooBig: () => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  res.onData((chunk, isLast) => {
    if (refused) return;
    size += chunk.byteLength;
    if (size > limit) {
      refused = true;
      onTooBig();
      return;
    }
    // uWS reuses the chunk's memory after this callback returns: copy it.
    chunks.push(Buffer.from(chunk.slice(0)));
    if (isLast) onBody(Buffer.concat(chunks));
  });
}

/** `POST /uploads` (multipart, field `file`, bearer token): images, or `?kind=csv` for catalogue imports. `GET /files/…` serves them. */
export function mountFiles(app: TemplatedApp, uws: UwsModule, deps: Deps): void {
  const limit = deps.config.uploadMaxBytes;
  // Decoding an image is the costliest thing a client can ask for: each user gets a budget.
  const limiter = new RateLimiter(deps.config.uploads.ratePerMin / 60, deps.config.uploads.burst);

  app.post('/uploads', (res: HttpResponse, req: HttpRequest) => {
    // The request object is only valid until the first await: read everything now.
    const authorization = req.getHeader('authorization');
    const contentType = req.getHeader('content-type');
    const wanted = req.getQuery('kind') === 'csv' ? 'csv' : 'image';
    const declared = Number(req.getHeader('content-length') || '0');
    let gone = false;
    res.onAborted(() => (gone = true));
    const tooBig = () => fail(res, 413, 'PAYLOAD_TOO_LARGE', `uploads are limited to ${limit} bytes`, { reason: 'TOO_MANY_BYTES', maxBytes: limit });
    if (declared > limit) return tooBig();
    readBody(
      res,
      limit,
      (body) => {
        handle(body).catch((err: unknown) => {
          if (gone) return;
          const refusal = refusalOf(err);
          if (refusal) return fail(res, refusal.status, refusal.error.code, refusal.error.message, refusal.error.details);
          deps.log.error({ err }, 'upload failed');
          fail(res, 500, 'INTERNAL', 'internal error');
        });
      },
      () => !gone && tooBig(),
    );

    async function handle(body: Buffer): Promise<void> {
      const token = /^Bearer (.+)$/i.exec(authorization)?.[1];
      const session = token ? await sessionFromToken(deps, token) : null;
      if (gone) return;
      if (!session || session.expiresAt <= Date.now()) return fail(res, 401, 'UNAUTHENTICATED', 'a valid bearer token is required');
      if (wanted === 'csv' && !CATALOG_ROLES.includes(session.actor.role)) return fail(res, 403, 'FORBIDDEN', 'only catalogue staff upload imports');
      const rate = limiter.take(session.actor.userId);
      if (!rate.ok)
        return fail(
          res,
          429,
          'RATE_LIMITED',
          'too many uploads; slow down',
          { retryInMs: rate.retryInMs },
          { 'retry-after': String(Math.ceil(rate.retryInMs / 1000)) },
        );
      const parts = uws.getParts(body, contentType) ?? [];
      const file = parts.find((p) => p.name === 'file');
      if (!file) return fail(res, 400, 'BAD_REQUEST', 'send the file as multipart form field "file"', { reason: 'NO_FILE' });
      const bytes = Buffer.from(file.data);
      const type = sniff(bytes);
      if (!type || type.kind !== wanted)
        throw wanted === 'image'
          ? refused('not a JPEG, PNG, GIF or WebP image', { reason: 'NOT_AN_IMAGE' })
          : refused('not a UTF-8 text file', { reason: 'NOT_TEXT' });
      const stored = await storeUpload(deps, session.actor.userId, type, bytes);
      if (gone) return;
      sendJson(res, 201, stored);
    }
  });

  app.get(
    '/files/*',
    asyncRoute(async (res, aborted, url, query) => {
      const m = SERVED.exec(url);
      if (!m) return fail(res, 404, 'NOT_FOUND', 'no such file');
      if (m[1] === FOLDERS.export && !verifyExportLink(deps.config, `${m[1]}/${m[2]}.${m[3]}`, query.get('expires'), query.get('signature')))
        return fail(res, 403, 'FORBIDDEN', 'an export opens only through the signed link given to whoever made it, before it expires');
      const body = await readFile(join(deps.config.uploadDir, m[1]!, `${m[2]}.${m[3]}`)).catch(() => null);
      if (aborted()) return;
      if (!body) return fail(res, 404, 'NOT_FOUND', 'no such file');
      res.cork(() => {
        res.writeStatus('200 OK').writeHeader('content-type', TYPES[m[3]!]!).writeHeader('x-content-type-options', 'nosniff');
        res.writeHeader('cache-control', m[1] === FOLDERS.export ? 'private, no-store' : 'public, max-age=31536000, immutable').end(body);
      });
    }),
  );
}
