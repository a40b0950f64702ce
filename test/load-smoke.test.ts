import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';

/** Runs a load script briefly with its own database and output folder; answers its JSON result. */
async function run(script: string, args: string[], env: Record<string, string>, result: string) {
  const out = mkdtempSync(join(tmpdir(), 'lilium-load-'));
  const run = `${process.env.LILIUM_TEST_RUN ?? 'local'}_${Math.random().toString(36).slice(2, 7)}`;
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, BENCH_OUT: out, BENCH_DB: `lilium_t_${run}_load`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  // On failure, show the lines that say what went wrong rather than the tail of a dump.
  const why = log
    .split('\n')
    .filter((l) => /error|exited|timed out|failed|"checks"|true|false/i.test(l))
    .slice(0, 40)
    .join('\n');
  expect(code, why || log.slice(0, 3000)).toBe(0);
  return { json: JSON.parse(readFileSync(join(out, `${result}.json`), 'utf8')) as Record<string, unknown>, out };
}

test('the load generator runs the whole flow on a small cluster and its checks hold', async () => {
  const { json, out } = await run('load/loadgen.ts', ['--nodes', '2', '--duration', '4', '--rate', '3', '--shops', '4'], {}, 'load');
  expect(json.checks).toMatchObject({
    everyOrderReachedItsVendor: true,
    noOrderPushedTwice: true,
    feedHasEveryOrderOnce: true,
    stockBalances: true,
    ledgerSumsToZero: true,
  });
  expect((json.totals as { delivered: number }).delivered).toBeGreaterThan(0);
  expect(readFileSync(join(out, 'load.html'), 'utf8')).toContain('<svg');
}, 120_000);

test('the ceilings benchmark measures every ceiling at a small size', async () => {
  const { json } = await run('load/ceilings.bench.ts', [], { BENCH_SOCKETS: '100', BENCH_CALLS: '200', BENCH_CONCURRENCY: '4', BENCH_PUSHES: '2' }, 'ceilings');
  expect(json).toMatchObject({ memory: { sockets: 100 }, pushToRoom: { sockets: 100, pushes: 2 } });
  expect((json.roundTrip as { liliumCartGet: { n: number } }).liliumCartGet.n).toBe(200);
}, 120_000);
