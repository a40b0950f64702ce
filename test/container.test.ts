import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import ts from 'typescript';
import { parse } from 'yaml';
import { UWS_BUILDS } from '../server/http/uws.js';

/*
 * Docker does not run here, so the image and the compose file are checked as files: they parse,
 * they name only files that exist and reach the build, and they say what production needs.
 */

const root = new URL('..', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(root, path), 'utf8');

// Its types declare an ES default export, but the package is CommonJS: the export is the function.
const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as typeof import('@balena/dockerignore').default;
const dockerfile = DockerfileParser.parse(read('Dockerfile'));
const ignored = dockerignore().add(read('.dockerignore').split('\n'));

interface Service {
  build?: string | { context: string; dockerfile?: string; dockerfile_inline?: string };
  image?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  restart?: string;
  volumes?: string[];
  secrets?: string[];
  configs?: { source: string; target: string }[];
  ports?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string; environment?: string }>;
  configs?: Record<string, { content?: string; file?: string }>;
}
const compose = parse(read('docker-compose.yml')) as Compose;
const services = Object.entries(compose.services);
const built = services.filter(([, s]) => s.build !== undefined);

/** The glibc of the Debian releases the official Node images are built on. */
const GLIBC: Record<string, string> = { bookworm: '2.36', trixie: '2.41' };
const atLeast = (version: string, min: string) => {
  const [a = 0, b = 0] = version.split('.').map(Number);
  const [c = 0, d = 0] = min.split('.').map(Number);
  return a > c || (a === c && b >= d);
};

function filesUnder(path: string): string[] {
  if (!statSync(join(root, path)).isDirectory()) return [path];
  return readdirSync(join(root, path)).flatMap((name) => (name === 'node_modules' ? [] : filesUnder(`${path}/${name}`)));
}

/** The instructions of each build stage, by its name. */
function stages(): { name: string; image: string; instructions: Instruction[] }[] {
  const froms = dockerfile.getFROMs();
  const all = dockerfile.getInstructions();
  return froms.map((from, i) => {
    const start = from.getRange().start.line;
    const end = froms[i + 1]?.getRange().start.line ?? Infinity;
    return {
      name: from.getBuildStage() ?? String(i),
      image: from.getImage() ?? '',
      instructions: all.filter((x) => x.getRange().start.line > start && x.getRange().start.line < end),
    };
  });
}

test('the Dockerfile builds in stages on a Node image whose glibc loads the uWebSockets.js build for its Node', () => {
  const all = stages();
  expect(all.map((s) => s.name)).toEqual(['deps', 'build', 'runtime']);
  // The build stage goes on from the dependencies; every other starts from a Node image.
  expect(all[1]!.image).toBe('deps');
  for (const { image } of all.filter((s) => s.name !== 'build')) {
    const [, major, release] = /^node:(\d+)-(\w+)-slim$/.exec(image) ?? [];
    const build = UWS_BUILDS.find((b) => Object.values(b.nodes).includes(Number(major)));
    expect(build, `${image}: no uWebSockets.js build for Node ${major}`).toBeDefined();
    expect(GLIBC[release!], `${image}: unknown Debian release`).toBeDefined();
    expect(atLeast(GLIBC[release!]!, build!.glibc), `${image}: glibc ${GLIBC[release!]} < ${build!.glibc}`).toBe(true);
  }
});

test('every COPY names files that exist and reach the build context, or an earlier stage', () => {
  const names = stages().map((s) => s.name);
  const copies = dockerfile.getCOPYs();
  expect(copies.length).toBeGreaterThan(0);
  for (const copy of copies) {
    const from = copy.getFromFlag()?.getValue();
    const sources = copy
      .getArguments()
      .slice(0, -1)
      .map((a) => a.getValue());
    if (from) {
      expect(names.slice(0, names.indexOf('runtime'))).toContain(from);
      continue;
    }
    for (const source of sources) {
      expect(existsSync(join(root, source)), `COPY ${source}: no such file`).toBe(true);
      const files = filesUnder(source);
      expect(ignored.filter(files), `COPY ${source}: left out by .dockerignore`).toEqual(files);
    }
  }
  // Nothing else goes into the context: no secrets, local data, dependencies or tests.
  for (const path of [
    'admin-password',
    '.env',
    '.git/HEAD',
    'data/pglite/PG_VERSION',
    'node_modules/zod/package.json',
    'test/http.test.ts',
    'load/results/load.html',
  ])
    expect(ignored.ignores(path), path).toBe(true);
});

test('the image runs the server as a non-root user, with a health check', () => {
  const runtime = stages().at(-1)!;
  const users = runtime.instructions.filter((i) => i.getKeyword() === 'USER').map((i) => i.getArgumentsContent());
  expect(users.length).toBeGreaterThan(0);
  expect(['root', '0']).not.toContain(users.at(-1)!.split(':')[0]);
  const cmd = dockerfile.getCMDs().at(-1)!;
  const command = cmd.getJSONStrings().map((s) => s.getJSONValue());
  expect(command).toEqual(['node', 'dist/server/main.js']);
  expect(existsSync(join(root, 'server/main.ts'))).toBe(true);
  expect(dockerfile.getHEALTHCHECKs().map((h) => h.getArgumentsContent())).toEqual([expect.stringContaining('http://127.0.0.1:3000/health')]);
});

test('the image runs what `npm start` runs: the server compiled by `npm run build` in the build stage', () => {
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
  const command = dockerfile
    .getCMDs()
    .at(-1)!
    .getJSONStrings()
    .map((s) => s.getJSONValue());
  expect(scripts.start).toBe(command.join(' '));
  expect(scripts.prestart).toBe('npm run build');
  expect(scripts.build).toBe('tsc -p tsconfig.build.json');
  // tsc puts server/main.ts at dist/server/main.js: the out directory mirrors the root.
  const { config, error } = ts.readConfigFile(join(root, 'tsconfig.build.json'), ts.sys.readFile);
  expect(error).toBeUndefined();
  expect(config).toMatchObject({ compilerOptions: { outDir: 'dist', rootDir: '.' }, files: ['server/main.ts'] });
  // tsc must be in the production install (`npm ci --omit=dev`) that the build stage starts from.
  expect(Object.keys((JSON.parse(read('package.json')) as { dependencies: Record<string, string> }).dependencies)).toContain('typescript');
  const [deps, build] = stages();
  expect(deps!.instructions.map((i) => i.getArgumentsContent())).toContainEqual(expect.stringContaining('npm ci --omit=dev'));
  expect(build!.instructions.filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent())).toEqual(['npm run build']);
  const copies = dockerfile.getCOPYs().map((c) => [c.getFromFlag()?.getValue(), ...c.getArguments().map((a) => a.getValue())]);
  expect(copies).toContainEqual(['build', '/app/dist', './dist']);
});

test('compose builds the nodes from the Dockerfile and names only files that exist', () => {
  expect(built.map(([name]) => name)).toEqual(['node1', 'node2']);
  for (const [, s] of built) {
    const build = typeof s.build === 'string' ? { context: s.build } : s.build!;
    expect(build).not.toHaveProperty('dockerfile_inline');
    expect(existsSync(join(root, build.context, 'dockerfile' in build && build.dockerfile ? build.dockerfile : 'Dockerfile'))).toBe(true);
  }
  const declared = Object.keys(compose.volumes ?? {});
  for (const [name, s] of services) {
    for (const volume of s.volumes ?? []) {
      const source = volume.split(':')[0]!;
      if (/^[./]/.test(source)) expect(existsSync(join(root, source)), `${name}: ${source}`).toBe(true);
      else expect(declared, `${name}: volume ${source}`).toContain(source);
    }
    const dependsOn = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    for (const other of dependsOn) expect(Object.keys(compose.services), `${name} depends on ${other}`).toContain(other);
    for (const secret of s.secrets ?? []) expect(Object.keys(compose.secrets ?? {})).toContain(secret);
    for (const config of s.configs ?? []) expect(Object.keys(compose.configs ?? {})).toContain(config.source);
  }
  // A secret's file, as compose reads it when its variable is unset.
  for (const [name, secret] of Object.entries(compose.secrets ?? {})) {
    const file = secret.file?.replace(/^\$\{\w+:-(.*)\}$/, '$1');
    if (file) expect(existsSync(file.startsWith('/') ? file : join(root, file)), `secret ${name}: ${file}`).toBe(true);
  }
  // The header's first-admin command is a script of this package.
  expect(read('docker-compose.yml')).toContain('npm run db -- create-admin');
  expect(JSON.parse(read('package.json')).scripts.db).toBe('tsx db/cli.ts');
});

test('compose runs production: no demo data, secrets from the environment, behind the proxy, checked and restarted', () => {
  for (const [name, s] of services) {
    expect(['always', 'unless-stopped'], `${name}: restart`).toContain(s.restart);
    expect(s.healthcheck?.test.length, `${name}: healthcheck`).toBeGreaterThan(0);
    expect(s.environment?.SEED, name).not.toBe('auto');
  }
  for (const [name, s] of built) {
    const env = s.environment!;
    expect({ name, NODE_ENV: env.NODE_ENV, SEED: env.SEED, TRUST_PROXY: env.TRUST_PROXY }).toEqual({
      name,
      NODE_ENV: 'production',
      SEED: 'never',
      TRUST_PROXY: '1',
    });
    // Required from the environment: compose stops at once, naming what is missing.
    for (const variable of ['JWT_SECRET', 'SMTP_URL', 'MAIL_FROM']) expect(env[variable], variable).toMatch(new RegExp(`^\\$\\{${variable}:\\?[^}]+\\}$`));
    expect(env.DATABASE_URL).toMatch(/^postgres:\/\/lilium:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/lilium$/);
    expect(env.SMS_GATEWAY_URL).toBe('${SMS_GATEWAY_URL:-}');
    expect(s.healthcheck!.test.join(' ')).toContain('http://127.0.0.1:3000/ready');
  }
  expect(compose.services.postgres!.environment!.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?[^}]+\}$/);

  // nginx sends every client to the nodes on their port, and keeps /metrics inside the network.
  const nginx = compose.configs!.nginx!.content!;
  const upstream = [...nginx.matchAll(/server (\w+):(\d+);/g)].map((m) => `${m[1]}:${m[2]}`);
  expect(upstream).toEqual(built.map(([name]) => `${name}:3000`));
  expect(nginx).toMatch(/location = \/metrics \{\s*return 404;\s*\}/);
  expect(compose.services.lb!.ports).toEqual(['3000:80']);
});
