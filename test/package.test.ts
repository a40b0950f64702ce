import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resolve as metroResolve, type ResolutionContext } from 'metro-resolver';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from './support/harness.js';

// @lilium/protocol as a client team gets it: built, packed, installed from the tarball into fresh projects.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROTOCOL = join(ROOT, 'protocol');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const { version } = JSON.parse(readFileSync(join(PROTOCOL, 'package.json'), 'utf8')) as { version: string };

const exec = promisify(execFile);
async function run(file: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await exec(file, args, { cwd, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}
const node = (args: string[], cwd: string) => run(process.execPath, args, cwd);

/** The code block of `lang` that follows `heading` in README.md, pointed at the test server. */
function readmeExample(lang: 'ts' | 'js', url: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A client in 15 lines'));
  const code = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section)?.[1];
  if (!code) throw new Error(`README.md has no ${lang} example under "A client in 15 lines"`);
  return code.replaceAll('http://localhost:3000', url);
}

let h: Harness;
let work: string;
let tarball: string;
let packed: string[];

beforeAll(async () => {
  h = await startHarness();
  await run('npm', ['run', 'build', '-w', '@lilium/protocol'], ROOT);
  work = await mkdtemp(join(tmpdir(), 'lilium-protocol-'));
  const [info] = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', work], PROTOCOL)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  tarball = join(work, info!.filename);
  packed = info!.files.map((f) => f.path).sort();
}, 180_000);
afterAll(async () => {
  await h?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** A fresh project with the tarball installed, offline: its peers are linked from this repository, never fetched. */
const projects = new Map<string, Promise<string>>();
const project = (name: string, type: 'commonjs' | 'module'): Promise<string> => {
  if (!projects.has(name)) projects.set(name, install(name, type));
  return projects.get(name)!;
};
async function install(name: string, type: 'commonjs' | 'module'): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `lilium-${name}`, version: '1.0.0', private: true, type }));
  await run('npm', ['install', tarball, '--offline', '--legacy-peer-deps', '--no-audit', '--no-fund', '--no-package-lock'], dir);
  for (const peer of ['zod', 'socket.io-client']) await symlink(join(ROOT, 'node_modules', peer), join(dir, 'node_modules', peer), 'dir');
  return dir;
}

const tsconfig = (module: 'nodenext' | 'preserve') =>
  JSON.stringify({
    compilerOptions: {
      module,
      moduleResolution: module === 'nodenext' ? 'nodenext' : 'bundler',
      target: 'es2022',
      lib: ['es2022', 'dom'],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    },
    include: ['*.ts', '*.cts'],
  });

/** Compile-time checks a client gets: real types (never `any`), narrowing by code, refused inputs. */
const TYPE_CHECKS = `
import { call, errors, isRpcError, PROTOCOL_VERSION, type DetailsOf, type InputOf, type LiliumSocket, type ResultOf } from '@lilium/protocol';
import { call as clientCall, RpcError } from '@lilium/protocol/client';
type IsAny<T> = 0 extends 1 & T ? true : false;
export const notAny: [false, false, false, false] = [
  false as IsAny<ResultOf<'zones:list'>>,
  false as IsAny<DetailsOf<'LOCKED'>>,
  false as IsAny<typeof errors.LOCKED.details>,
  false as IsAny<InputOf<'auth:login'>>,
];
export function wait(e: unknown): number {
  if (isRpcError(e, 'LOCKED')) return e.details.retryInS;
  if (e instanceof RpcError && e.code === 'RATE_LIMITED') return e.details.retryInMs / 1000;
  // @ts-expect-error a FORBIDDEN error has no retryInMs
  if (isRpcError(e, 'FORBIDDEN')) return e.details.retryInMs;
  return 0;
}
export async function refused(socket: LiliumSocket): Promise<string> {
  // @ts-expect-error auth:login takes no 'user'
  await call(socket, 'auth:login', { app: 'mobile', user: 'x', password: 'y' });
  const zones: ResultOf<'zones:list'> = await clientCall(socket, 'zones:list', {});
  return PROTOCOL_VERSION + zones.items.length;
}
`;

describe('@lilium/protocol', () => {
  test('the tarball holds the built package, its README, CHANGELOG and error table, and no source', () => {
    expect(packed.filter((f) => !f.startsWith('dist/'))).toEqual(['CHANGELOG.md', 'ERRORS.md', 'README.md', 'package.json']);
    const dist = packed.filter((f) => f.startsWith('dist/'));
    for (const entry of ['index', 'client']) {
      for (const ext of ['.js', '.cjs', '.d.ts', '.d.cts']) expect(dist).toContain(`dist/${entry}${ext}`);
    }
    expect(dist.filter((f) => !/\.(js|cjs|d\.ts|d\.cts)$/.test(f))).toEqual([]);
  });

  test('a CommonJS project requires it, validates with its schemas, and runs the README example', async () => {
    const dir = await project('cjs', 'commonjs');
    await writeFile(
      join(dir, 'schemas.js'),
      `const p = require('@lilium/protocol');
       const client = require('@lilium/protocol/client');
       const { io } = require('socket.io-client');
       const socket = io('http://127.0.0.1:1', { autoConnect: false });
       console.log(JSON.stringify({
         version: p.PROTOCOL_VERSION,
         login: p.events['auth:login'].input.safeParse({ app: 'mobile', login: 'shop1@demo.lilium', password: 'x' }).success,
         bogus: p.events['auth:login'].input.safeParse({ app: 'moon' }).success,
         locked: p.errors.LOCKED.details.safeParse({ retryAt: '2026-01-01T10:00:00.000Z', retryInS: 5 }).success,
         sameClass: client.RpcError === p.RpcError && client.call === p.call,
         error: new p.RpcError({ code: 'RATE_LIMITED', message: 'slow', details: { retryInMs: 5 } }).details,
         socket: typeof socket.emitWithAck,
         live: typeof p.createLiveClient,
       }));`,
    );
    expect(JSON.parse(await node(['schemas.js'], dir))).toEqual({
      version,
      login: true,
      bogus: false,
      locked: true,
      sameClass: true,
      error: { retryInMs: 5 },
      socket: 'function',
      live: 'function',
    });
    expect(lstatSync(join(dir, 'node_modules/@lilium/protocol')).isSymbolicLink()).toBe(false);

    await writeFile(join(dir, 'example.js'), readmeExample('js', h.url));
    const out = (await node(['example.js'], dir)).trim().split('\n');
    expect(out[0]).toMatch(/^signed in as \S/);
    expect(out.at(-1)).toBe("FORBIDDEN { reason: 'app', app: 'mobile' }");

    // TypeScript compiled to CommonJS resolves the `require` condition's declarations.
    await writeFile(join(dir, 'tsconfig.json'), tsconfig('nodenext'));
    await writeFile(join(dir, 'check.ts'), TYPE_CHECKS);
    await node([TSC, '-p', 'tsconfig.json'], dir);
    await writeFile(join(dir, 'wrong.ts'), `import { call } from '@lilium/protocol';\nexport const x: number = call;\n`);
    await expect(node([TSC, '-p', 'tsconfig.json'], dir)).rejects.toThrow(/wrong\.ts.*TS2322/);
  }, 120_000);

  test('an ES-module project imports it, type-checks and runs the README example with top-level await', async () => {
    const dir = await project('esm', 'module');
    await writeFile(
      join(dir, 'schemas.js'),
      `import { PROTOCOL_VERSION, errors, RpcError, eventNames, createLiveClient } from '@lilium/protocol';
       import { RpcError as ClientError } from '@lilium/protocol/client';
       console.log(JSON.stringify({ version: PROTOCOL_VERSION, sameClass: ClientError === RpcError, login: eventNames.includes('auth:login'), live: typeof createLiveClient,
         app: errors.FORBIDDEN.details.parse({ reason: 'app', app: 'driver' }) }));`,
    );
    expect(JSON.parse(await node(['schemas.js'], dir))).toEqual({
      version,
      sameClass: true,
      login: true,
      live: 'function',
      app: { reason: 'app', app: 'driver' },
    });

    await writeFile(join(dir, 'example.ts'), readmeExample('ts', h.url));
    await writeFile(join(dir, 'check.ts'), TYPE_CHECKS);
    await writeFile(join(dir, 'tsconfig.json'), tsconfig('nodenext'));
    await node([TSC, '-p', 'tsconfig.json'], dir);
    // A bundler's resolution (Vite, esbuild) reads the same `import` declarations.
    await writeFile(join(dir, 'tsconfig.json'), tsconfig('preserve'));
    await node([TSC, '-p', 'tsconfig.json'], dir);
    const out = (await node([TSX, 'example.ts'], dir)).trim().split('\n');
    expect(out[0]).toMatch(/^signed in as \S+.*; token for reconnects: .{12}…$/);
    expect(out.at(-1)).toBe('BAD_REQUEST unrecognized_keys');
  }, 120_000);

  test('a Vite web app bundles it for the browser', async () => {
    const dir = await project('esm', 'module');
    const web = join(dir, 'web');
    await mkdir(web);
    await writeFile(join(web, 'index.html'), '<!doctype html><html><body><script type="module" src="./main.ts"></script></body></html>');
    await writeFile(
      join(web, 'main.ts'),
      `import { io } from 'socket.io-client';
       import { call, events, PROTOCOL_VERSION, type LiliumSocket } from '@lilium/protocol';
       const socket: LiliumSocket = io(location.origin, { transports: ['websocket'], autoConnect: false });
       document.body.dataset.version = PROTOCOL_VERSION;
       document.body.dataset.valid = String(events['zones:list'].input.safeParse({}).success);
       void call(socket, 'zones:list', {});`,
    );
    const { build } = await import('vite');
    const output = await build({ root: web, configFile: false, logLevel: 'silent', build: { outDir: join(web, 'dist'), minify: false, write: false } });
    const chunks = (Array.isArray(output) ? output : [output]).flatMap((o) => ('output' in o ? o.output : [])).filter((c) => c.type === 'chunk');
    const code = chunks.map((c) => (c.type === 'chunk' ? c.code : '')).join('\n');
    expect(code).toContain(`"${version}"`);
    expect(code).toContain('zones:list');
    expect(code).not.toMatch(/\brequire\(|from ["']node:/);
  }, 120_000);

  test('Metro resolves it to built JavaScript through exports or the react-native field, and so every import inside it', async () => {
    const dir = await project('esm', 'module');
    const app = join(dir, 'App.js');
    const warnings: string[] = [];
    const context = (options: { exports: boolean; esm: boolean; origin: string }): ResolutionContext =>
      ({
        allowHaste: false,
        assetExts: new Set(['png', 'jpg']),
        customResolverOptions: {},
        dev: false,
        disableHierarchicalLookup: false,
        doesFileExist: (p: string) => existsSync(p) && statSync(p).isFile(),
        extraNodeModules: null,
        fileSystemLookup: (p: string) =>
          existsSync(p) ? { exists: true, type: statSync(p).isDirectory() ? 'd' : 'f', realPath: realpathSync(p) } : { exists: false },
        getPackage: (p: string) => (existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : null),
        getPackageForModule: (file: string) => {
          // The closest package.json, not above the node_modules folder the file is in.
          for (let dir = dirname(file); !dir.endsWith('node_modules') && dir !== dirname(dir); dir = dirname(dir)) {
            const json = join(dir, 'package.json');
            if (existsSync(json)) return { rootPath: dir, packageJson: JSON.parse(readFileSync(json, 'utf8')), packageRelativePath: relative(dir, file) };
          }
          return null;
        },
        isESMImport: options.esm,
        // React Native's own defaults: no `.cjs` or `.mjs` among the source extensions.
        mainFields: ['react-native', 'browser', 'main'],
        nodeModulesPaths: [],
        originModulePath: options.origin,
        preferNativePlatform: true,
        redirectModulePath: (p: string) => p,
        resolveAsset: () => null,
        resolveHasteModule: () => null,
        resolveHastePackage: () => null,
        sourceExts: ['js', 'jsx', 'json', 'ts', 'tsx'],
        unstable_conditionNames: ['react-native'],
        unstable_conditionsByPlatform: { web: ['browser'] },
        unstable_enablePackageExports: options.exports,
        unstable_incrementalResolution: false,
        unstable_logWarning: (m: string) => warnings.push(m),
      }) as unknown as ResolutionContext;
    const resolveFrom = (origin: string, name: string, options: { exports: boolean; esm: boolean }) => {
      const r = metroResolve(context({ ...options, origin }), name, 'ios');
      if (r.type !== 'sourceFile') throw new Error(`${name} resolved to ${r.type}`);
      return r.filePath;
    };
    const pkg = join(dir, 'node_modules/@lilium/protocol');
    const at = (file: string) => relative(pkg, realpathSync(file));

    for (const options of [
      { exports: true, esm: true },
      { exports: true, esm: false },
    ]) {
      expect(at(resolveFrom(app, '@lilium/protocol', options))).toBe('dist/index.js');
      expect(at(resolveFrom(app, '@lilium/protocol/client', options))).toBe('dist/client.js');
    }
    expect(at(resolveFrom(app, '@lilium/protocol', { exports: false, esm: true }))).toBe('dist/index.js');

    // Every import of what Metro bundles resolves, relative ones to .js files in dist/, never to TypeScript sources.
    const seen = new Set<string>();
    const queue = [
      resolveFrom(app, '@lilium/protocol', { exports: true, esm: true }),
      resolveFrom(app, '@lilium/protocol/client', { exports: true, esm: true }),
    ];
    const bare = new Set<string>();
    while (queue.length) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const source = await readFile(file, 'utf8');
      const specifiers = [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?['"]([^'"]+)['"]|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
        (m) => m[1] ?? m[2]!,
      );
      expect(source).not.toMatch(/^await\s/m);
      for (const s of specifiers) {
        expect(s, `${at(file)} imports ${s}`).not.toMatch(/\.tsx?$/);
        const target = resolveFrom(file, s, { exports: true, esm: true });
        if (s.startsWith('.')) {
          expect(at(target)).toMatch(/^dist\/[\w-]+\.js$/);
          queue.push(target);
        } else bare.add(s);
      }
    }
    expect(bare.has('zod')).toBe(true);
    expect([...bare].filter((b) => b !== 'zod' && b !== 'socket.io-client')).toEqual([]);
    expect([...seen].map(at).sort()).toEqual(packed.filter((f) => /^dist\/.*\.js$/.test(f)));
    expect(warnings).toEqual([]);
  }, 120_000);
});
