import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { TemplatedApp } from 'uWebSockets.js';
import { asyncApiDocument } from '../../protocol/asyncapi.js';
import type { Deps } from '../deps.js';
import { asyncRoute, send, sendJson } from './respond.js';

const require = createRequire(import.meta.url);

/** The AsyncAPI React component's standalone bundle renders the document in the browser; both come from node_modules, no CDN. */
const ASSETS: Record<string, { file: string; type: string }> = {
  '/docs/asyncapi.js': { file: require.resolve('@asyncapi/react-component/browser/standalone/index.js'), type: 'text/javascript; charset=utf-8' },
  '/docs/asyncapi.css': { file: require.resolve('@asyncapi/react-component/styles/default.min.css'), type: 'text/css; charset=utf-8' },
};

// Relative links, so the page also works behind a proxy that serves Lilium under a path.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Lilium events</title>
<link rel="stylesheet" href="docs/asyncapi.css">
<style>body { margin: 0; font-family: system-ui, sans-serif; }</style>
</head>
<body>
<div id="asyncapi"></div>
<script src="docs/asyncapi.js"></script>
<script>
AsyncApiStandalone.render(
  {
    schema: { url: 'asyncapi.json', options: { method: 'GET' } },
    config: { show: { sidebar: true }, sidebar: { showOperations: 'byOperationsTags' } },
  },
  document.getElementById('asyncapi'),
);
</script>
</body>
</html>
`;

const gzipped = promisify(gzip);

/** `GET /asyncapi.json`, the contract for tools, and `GET /docs`, the same rendered for people. */
export function mountDocs(app: TemplatedApp, deps: Deps, version: string): void {
  // Built on first request: a server that nobody asks for its document never spends the time.
  let document: string | undefined;
  app.get('/asyncapi.json', (res) => {
    try {
      document ??= JSON.stringify(asyncApiDocument({ version, publicUrl: deps.config.publicUrl }));
    } catch (err) {
      deps.log.error({ err }, 'the AsyncAPI document could not be built from protocol/');
      return sendJson(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
    }
    send(res, 200, document, 'application/json; charset=utf-8');
  });

  app.get('/docs', (res) => send(res, 200, PAGE, 'text/html; charset=utf-8'));

  // The bundle is 3 MB: read and compressed once, when first asked for.
  const bodies = new Map<string, Promise<{ plain: Buffer; gzip: Buffer }>>();
  const body = (file: string) => {
    let cached = bodies.get(file);
    if (!cached) {
      cached = readFile(file).then(async (plain) => ({ plain, gzip: await gzipped(plain) }));
      bodies.set(file, cached);
    }
    return cached;
  };
  for (const [path, asset] of Object.entries(ASSETS))
    app.get(path, (res, req) => {
      const compressed = /\bgzip\b/.test(req.getHeader('accept-encoding'));
      asyncRoute(async (res, aborted) => {
        const { plain, gzip } = await body(asset.file);
        if (aborted()) return;
        res.cork(() => {
          res
            .writeStatus('200 OK')
            .writeHeader('content-type', asset.type)
            .writeHeader('cache-control', 'public, max-age=3600')
            .writeHeader('vary', 'accept-encoding');
          if (compressed) res.writeHeader('content-encoding', 'gzip');
          res.end(compressed ? gzip : plain);
        });
      })(res, req);
    });
}
