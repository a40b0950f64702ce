import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Uws from 'uWebSockets.js';

export type UwsModule = typeof Uws;

const require = createRequire(import.meta.url);

/** What decides which uWebSockets.js binary can run: the Node ABI (`process.versions.modules`) and, on Linux, glibc. */
export interface Runtime {
  node: string;
  abi: string;
  platform: string;
  arch: string;
  /** The C library's version on Linux; null elsewhere, and on Linux without glibc (musl). */
  glibc: string | null;
}

/** A published build of uWebSockets.js: the package, the Node lines it has binaries for, the glibc they need. */
export interface UwsBuild {
  /** The name it is installed under (package.json). */
  package: string;
  /** What to install when it is missing. */
  install: string;
  /** Node major by ABI. */
  nodes: Record<string, number>;
  /** The newest glibc symbol its Linux binaries use. */
  glibc: string;
  /** Where its `uws_<platform>_<arch>_<abi>.node` files sit, from the file its package resolves to. */
  binaries: string;
}

/**
 * The builds Lilium installs. uWebSockets.js itself is published only on GitHub, so each is a
 * repackaging from the npm registry: the Trufflesuite one stops at Node 20, the BTC Vision one
 * starts its Node 22+ binaries at glibc 2.38. Node 20 takes the Trufflesuite build even where the
 * other would load, so that one machine keeps one binary whatever its glibc.
 */
export const UWS_BUILDS: readonly UwsBuild[] = [
  {
    package: 'uWebSockets.js',
    install: 'uWebSockets.js@npm:@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0',
    nodes: { '115': 20 },
    glibc: '2.27',
    binaries: '../binaries',
  },
  {
    package: '@btc-vision/uwebsockets.js',
    install: '@btc-vision/uwebsockets.js@20.57.0',
    nodes: { '127': 22, '137': 24 },
    glibc: '2.38',
    binaries: '.',
  },
];

export class UwsUnavailable extends Error {
  override name = 'UwsUnavailable';
}

export function currentRuntime(): Runtime {
  const header = process.platform === 'linux' ? (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header : undefined;
  return {
    node: process.versions.node,
    abi: process.versions.modules,
    platform: process.platform,
    arch: process.arch,
    glibc: header?.glibcVersionRuntime ?? null,
  };
}

const atLeast = (version: string, min: string) => {
  const [a = 0, b = 0] = version.split('.').map(Number);
  const [c = 0, d = 0] = min.split('.').map(Number);
  return a > c || (a === c && b >= d);
};

const describe = (rt: Runtime) =>
  `Node ${rt.node} (ABI ${rt.abi}) on ${rt.platform}-${rt.arch}${rt.platform === 'linux' ? (rt.glibc ? ` with glibc ${rt.glibc}` : ' without glibc') : ''}`;

/** The build whose binary fits this runtime, or the one line that says why none does and what to do. */
export function chooseUwsBuild(rt: Runtime, builds: readonly UwsBuild[] = UWS_BUILDS): { build: UwsBuild } | { refusal: string } {
  const lines = builds.flatMap((b) => Object.values(b.nodes)).sort((a, b) => a - b);
  const supported = `${lines.slice(0, -1).join(', ')} or ${lines.at(-1)}`;
  const build = builds.find((b) => rt.abi in b.nodes);
  if (!build) return { refusal: `uWebSockets.js: no build for ${describe(rt)}; run Node ${supported} (see "Supported runtimes" in the README)` };
  if (rt.platform !== 'linux') return { build };
  if (!rt.glibc)
    return { refusal: `uWebSockets.js: ${describe(rt)}: its builds need glibc (musl, as on Alpine, has none); use a glibc system such as Debian or Ubuntu` };
  if (!atLeast(rt.glibc, build.glibc)) {
    const fitting = builds.filter((b) => atLeast(rt.glibc!, b.glibc)).flatMap((b) => Object.values(b.nodes));
    const instead = fitting.length ? `run Node ${fitting.join(' or ')} here, or ` : '';
    return {
      refusal: `uWebSockets.js: ${describe(rt)}: Node ${build.nodes[rt.abi]} needs ${build.package}, built for glibc ${build.glibc} or later; ${instead}move to glibc ${build.glibc}+ (Debian 13, Ubuntu 24.04, node:${build.nodes[rt.abi]}-trixie-slim)`,
    };
  }
  return { build };
}

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n').find((l) => l.trim()) ?? 'unknown error';

/**
 * Loads the native uWebSockets.js binary built for this runtime, straight from its file: never a
 * package's wrapper, which may fall back to a slow JavaScript server when the binary does not load.
 * Anything else is an UwsUnavailable whose message is one line naming the runtime and the fix.
 */
export function loadNativeUws(rt: Runtime = currentRuntime(), builds: readonly UwsBuild[] = UWS_BUILDS): UwsModule {
  if (/^(1|true)$/i.test(process.env.UWS_USE_FALLBACK ?? ''))
    throw new UwsUnavailable('uWebSockets.js: UWS_USE_FALLBACK asks for the JavaScript fallback, which Lilium never runs on; unset it');
  const choice = chooseUwsBuild(rt, builds);
  if ('refusal' in choice) throw new UwsUnavailable(choice.refusal);
  const { build } = choice;
  let entry: string;
  try {
    entry = require.resolve(build.package);
  } catch {
    throw new UwsUnavailable(`uWebSockets.js: ${describe(rt)} needs ${build.package}, which is not installed; npm install ${build.install}`);
  }
  const binary = join(dirname(entry), build.binaries, `uws_${rt.platform}_${rt.arch}_${rt.abi}.node`);
  if (!existsSync(binary)) throw new UwsUnavailable(`uWebSockets.js: ${build.package} has no binary for ${describe(rt)}`);
  let uws: UwsModule;
  try {
    uws = require(binary) as UwsModule;
  } catch (err) {
    throw new UwsUnavailable(`uWebSockets.js: the ${build.package} binary for ${describe(rt)} did not load: ${firstLine(err)}`);
  }
  if (typeof uws.App !== 'function') throw new UwsUnavailable(`uWebSockets.js: ${binary} is not a uWebSockets.js binary`);
  return uws;
}
