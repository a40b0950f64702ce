import { spawn, type ChildProcess } from 'node:child_process';

export interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** Resolves with the first stdout match. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

const ROOT = new URL('../..', import.meta.url).pathname;

/** Runs `server/main.ts` as its own process, through tsx (as `npm start` would, without its build). */
export function spawnServer(env: Record<string, string>): Spawned {
  return spawnScript('server/main.ts', [], env);
}

/**
 * Compiles the server as `npm run build` does, but into `outDir` (under node_modules/.cache, whose packages it
 * still resolves), so a test never rewrites the dist/ that a bench of the same checkout may be running.
 */
export async function buildServer(outDir: string): Promise<void> {
  const tsc = spawnNode([`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json', '--outDir', outDir], {});
  const { code } = await tsc.exited;
  if (code !== 0) throw new Error(`tsc exited ${code}: ${tsc.stdout()}${tsc.stderr()}`);
}

/** Runs the server compiled into `outDir` by `buildServer`, as `npm start` runs dist/. */
export function spawnBuiltServer(outDir: string, env: Record<string, string>): Spawned {
  return spawnNode([`${outDir}/server/main.js`], env);
}

/** Runs `db/cli.ts` as `npm run db -- …args` would. */
export function spawnDbCli(args: string[], env: Record<string, string>): Spawned {
  return spawnScript('db/cli.ts', args, env);
}

/** Runs a TypeScript script of this repository as its own process, through tsx. */
export function spawnScript(script: string, args: string[], env: Record<string, string>): Spawned {
  return spawnNode(['--import', 'tsx', script, ...args], env);
}

/** Runs node with `args` in the repository's root, with only `env` (and PATH, HOME) in its environment. */
function spawnNode(args: string[], env: Record<string, string>): Spawned {
  const started = Date.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - started })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; stderr: ${err.slice(-2000)}`)), timeoutMs);
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            clearTimeout(timer);
            child.stdout!.off('data', check);
            resolve(m);
          }
        };
        child.stdout!.on('data', check);
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`exited before ${pattern}; stderr: ${err.slice(-2000)}`));
        });
        check();
      });
    },
  };
}
