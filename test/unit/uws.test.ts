import { createRequire } from 'node:module';
import { expect, test } from 'vitest';
import { chooseUwsBuild, currentRuntime, loadNativeUws, UWS_BUILDS, type Runtime, type UwsBuild } from '../../server/http/uws.js';

const linux = (node: string, abi: string, glibc: string | null): Runtime => ({ node, abi, platform: 'linux', arch: 'x64', glibc });
const chosen = (rt: Runtime) => {
  const choice = chooseUwsBuild(rt);
  return 'build' in choice ? choice.build.package : choice.refusal;
};

test('each Node line gets the build that has its ABI, where its glibc allows', () => {
  expect({
    node20: chosen(linux('20.19.0', '115', '2.36')),
    node20NewGlibc: chosen(linux('20.19.0', '115', '2.41')),
    node20OldGlibc: chosen(linux('20.19.0', '115', '2.28')),
    node22: chosen(linux('22.12.0', '127', '2.41')),
    node24: chosen(linux('24.11.1', '137', '2.39')),
    node24Arm: chosen({ ...linux('24.11.1', '137', '2.38'), arch: 'arm64' }),
    node24Mac: chosen({ node: '24.11.1', abi: '137', platform: 'darwin', arch: 'arm64', glibc: null }),
    node22Windows: chosen({ node: '22.12.0', abi: '127', platform: 'win32', arch: 'x64', glibc: null }),
  }).toEqual({
    node20: 'uWebSockets.js',
    node20NewGlibc: 'uWebSockets.js',
    node20OldGlibc: 'uWebSockets.js',
    node22: '@btc-vision/uwebsockets.js',
    node24: '@btc-vision/uwebsockets.js',
    node24Arm: '@btc-vision/uwebsockets.js',
    node24Mac: '@btc-vision/uwebsockets.js',
    node22Windows: '@btc-vision/uwebsockets.js',
  });
});

test('a runtime no build fits is refused in one line naming it and what to run instead', () => {
  expect(chosen(linux('22.12.0', '127', '2.36'))).toBe(
    'uWebSockets.js: Node 22.12.0 (ABI 127) on linux-x64 with glibc 2.36: Node 22 needs @btc-vision/uwebsockets.js, built for glibc 2.38 or later; run Node 20 here, or move to glibc 2.38+ (Debian 13, Ubuntu 24.04, node:22-trixie-slim)',
  );
  expect(chosen(linux('24.11.1', '137', '2.26'))).toBe(
    'uWebSockets.js: Node 24.11.1 (ABI 137) on linux-x64 with glibc 2.26: Node 24 needs @btc-vision/uwebsockets.js, built for glibc 2.38 or later; move to glibc 2.38+ (Debian 13, Ubuntu 24.04, node:24-trixie-slim)',
  );
  expect(chosen(linux('18.20.4', '108', '2.36'))).toBe(
    'uWebSockets.js: no build for Node 18.20.4 (ABI 108) on linux-x64 with glibc 2.36; run Node 20, 22 or 24 (see "Supported runtimes" in the README)',
  );
  expect(chosen(linux('25.2.0', '141', '2.41'))).toBe(
    'uWebSockets.js: no build for Node 25.2.0 (ABI 141) on linux-x64 with glibc 2.41; run Node 20, 22 or 24 (see "Supported runtimes" in the README)',
  );
  expect(chosen(linux('24.11.1', '137', null))).toBe(
    'uWebSockets.js: Node 24.11.1 (ABI 137) on linux-x64 without glibc: its builds need glibc (musl, as on Alpine, has none); use a glibc system such as Debian or Ubuntu',
  );
});

test('on this machine the native binary of the chosen build loads, never the JavaScript fallback', () => {
  const rt = currentRuntime();
  expect(rt).toMatchObject({ node: process.versions.node, abi: process.versions.modules, platform: process.platform, arch: process.arch });
  const uws = loadNativeUws();
  expect(typeof uws.App).toBe('function');
  const expected = 'build' in chooseUwsBuild(rt) ? `uws_${rt.platform}_${rt.arch}_${rt.abi}.node` : 'none';
  const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => /uws_\w+\.node$/.test(p));
  expect(loaded.map((p) => p.split('/').at(-1))).toEqual([expected]);
  // Neither package's wrapper, which is where a fallback would come from, was loaded.
  expect(
    Object.keys(createRequire(import.meta.url).cache).filter((p) => /uWebSockets\.js[/\\](src|dist)|btc-vision[/\\]uwebsockets\.js[/\\]uws\.js/.test(p)),
  ).toEqual([]);
});

test('a build that is installed but does not load here is refused in one line with the loader’s reason', () => {
  // Another Node line's binary, tried on this one: the file is there, and dlopen or Node refuses it.
  const other = process.versions.modules === '137' ? { node: '22.12.0', abi: '127' } : { node: '24.11.1', abi: '137' };
  const rt: Runtime = { ...currentRuntime(), ...other, glibc: '2.41' };
  expect(() => loadNativeUws(rt)).toThrow(
    expect.objectContaining({
      name: 'UwsUnavailable',
      message: expect.stringMatching(
        new RegExp(`^uWebSockets\\.js: the @btc-vision/uwebsockets\\.js binary for Node ${other.node} \\(ABI ${other.abi}\\) on .+ did not load: [^\\n]+$`),
      ),
    }),
  );
});

test('a build that is not installed names what to install', () => {
  const missing: UwsBuild = { ...UWS_BUILDS[0]!, package: '@lilium/no-such-uws', install: '@lilium/no-such-uws@1.0.0' };
  const rt: Runtime = { ...currentRuntime(), abi: '115', glibc: '2.36' };
  expect(() => loadNativeUws(rt, [missing])).toThrow(
    `uWebSockets.js: Node ${rt.node} (ABI 115) on ${rt.platform}-${rt.arch}${rt.platform === 'linux' ? ' with glibc 2.36' : ''} needs @lilium/no-such-uws, which is not installed; npm install @lilium/no-such-uws@1.0.0`,
  );
});
