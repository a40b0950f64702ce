import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { beforeAll, describe, expect, test } from 'vitest';
import type { LoadResult } from '../load/report.js';
import { minSamplesFor } from '../load/stats.js';

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

describe('the load generator on a small cluster', () => {
  let json: LoadResult;
  let out: string;
  beforeAll(async () => {
    const result = await run('load/loadgen.ts', ['--nodes', '2', '--duration', '4', '--rate', '3', '--shops', '4'], {}, 'load');
    json = result.json as unknown as LoadResult;
    out = result.out;
  }, 120_000);

  test('runs the whole flow, and its checks hold', () => {
    expect(json.checks).toMatchObject({
      everyOrderReachedItsVendor: true,
      noOrderPushedTwice: true,
      feedHasEveryOrderOnce: true,
      stockBalances: true,
      ledgerSumsToZero: true,
    });
    expect(json.totals.delivered).toBeGreaterThan(0);
  });

  test('records the run over time and the servers from their /metrics', () => {
    const { windows, windowS, loadEndS, endS } = json.timeline;
    expect(windowS).toBe(1);
    expect(windows.length).toBe(Math.ceil(endS));
    expect(loadEndS).toBeGreaterThanOrEqual(4);
    const answered = windows.reduce((n, w) => n + w.series.calls!.n, 0);
    expect(answered).toBe(Object.values(json.events).reduce((n, e) => n + e.n, 0));
    expect(json.server.failures).toBe(0);
    expect(json.server.scrapes).toBeGreaterThanOrEqual(2 * 4);
    // Whatever the exposition names its pool gauges, they are found; any other series either is drawn or is listed as missing.
    expect(json.server.charts.some((c) => c.title.startsWith('Database pool') && c.lines.length === 2)).toBe(true);
    for (const wanted of ['CPU', 'Resident memory', 'Event-loop lag'])
      expect([wanted, json.server.charts.some((c) => c.title.startsWith(wanted)) !== json.server.missing.includes(wanted)]).toEqual([wanted, true]);
  });

  test('its report draws in headless Chromium: every chart with data, the tables, no errors, no downloads', async () => {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => ['error', 'warning'].includes(m.type()) && problems.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => !r.url().startsWith('file:') && problems.push(`request: ${r.url()}`));
      await page.goto(pathToFileURL(join(out, 'load.html')).href);
      await page.waitForSelector('body[data-charts="drawn"]', { timeout: 15_000 });

      // In the page (as a string: the tests are compiled without DOM types): each chart's drawn elements and inked pixels.
      const charts = await page.evaluate<Array<{ title: string; elements: number; inked: number }>>(`
        [...document.querySelectorAll('canvas')].map((canvas) => {
          const chart = Chart.getChart(canvas);
          const elements = chart.data.datasets
            .map((_, i) => chart.getDatasetMeta(i).data.filter((e, k) => chart.data.datasets[i].data[k] != null && chart.data.datasets[i].data[k].y !== null && Number.isFinite(e.x) && Number.isFinite(e.y)).length)
            .reduce((a, b) => a + b, 0);
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let inked = 0;
          for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
          return { title: canvas.dataset.chart, elements, inked: inked / (canvas.width * canvas.height) };
        })`);
      const titles = ['Calls per second', 'Checkouts per second', 'Latency of every call over time', 'Latency of cart:checkout over time'];
      expect(charts.map((c) => c.title)).toEqual([...titles, ...json.server.charts.map((c) => c.title), 'End to end', 'Latency by call']);
      for (const c of charts) expect([c.title, c.elements > 0, c.inked > 0.01]).toEqual([c.title, true, true]);

      expect(await page.locator('table.kv').evaluateAll((ts) => ts.map((t) => t.querySelectorAll('tr').length))).toEqual([
        Object.keys(json.machine).length,
        Object.keys(json.config).length,
        Object.keys(json.totals).length,
      ]);
      expect(await page.locator('table.checks tr').count()).toBe(Object.keys(json.checks).length);
      // Each percentile a sample cannot carry says so, and no other cell does.
      const stats = [...Object.values(json.endToEnd), ...Object.values(json.events)];
      const tooSmall = stats.reduce((n, s) => n + [50, 95, 99].filter((p) => s.n < minSamplesFor(p)).length, 0);
      expect(await page.locator('td.na').count()).toBe(tooSmall);
      expect(await page.locator('td.na').first().textContent()).toBe('n too small');
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});

test('the ceilings benchmark measures every ceiling at a small size', async () => {
  const { json } = await run('load/ceilings.bench.ts', [], { BENCH_SOCKETS: '100', BENCH_CALLS: '200', BENCH_CONCURRENCY: '4', BENCH_PUSHES: '2' }, 'ceilings');
  expect(json).toMatchObject({ memory: { sockets: 100 }, pushToRoom: { sockets: 100, pushes: 2 } });
  // Each side gets the calls in 6 alternating rounds, rounded up to whole rounds.
  const { cartGet, meGet } = json.roundTrip as Record<'cartGet' | 'meGet', { bare: { n: number }; lilium: { n: number }; ratio: number }>;
  for (const side of [cartGet.bare, cartGet.lilium, meGet.bare, meGet.lilium]) expect(side.n).toBe(6 * Math.ceil(200 / 6));
  expect(Object.keys(json.ratios as object)).toEqual(
    expect.arrayContaining([
      'meGetVsBareSameSql',
      'cartGetVsBareSameSql',
      'tpcbNodeVsPgbench',
      'pushLastSocketP99OneNodeVsBare',
      'pushLastSocketP99ThreeNodesVsBare',
    ]),
  );
}, 120_000);
