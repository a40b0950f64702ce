import { createRequire } from 'node:module';
import type * as Uws from 'uWebSockets.js';

export type UwsModule = typeof Uws;

const require = createRequire(import.meta.url);

/**
 * Loads uWebSockets.js and insists on its native binary: the package quietly falls back to a
 * slow JavaScript server when the binary does not load, which we never want to run on.
 */
export function loadNativeUws(): UwsModule {
  const uws = require('uWebSockets.js') as UwsModule & { getParts?: unknown };
  const binaryLoaded = Object.keys(require.cache).some((path) => /uws_[^/\\]+\.node$/.test(path));
  if (!binaryLoaded || typeof uws.getParts !== 'function') {
    throw new Error(
      `uWebSockets.js: the native binary did not load for ${process.platform}-${process.arch} (Node ABI ${process.versions.modules}); refusing to run on the JavaScript fallback`,
    );
  }
  return uws;
}
