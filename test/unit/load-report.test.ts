import { describe, expect, test } from 'vitest';
import { htmlReport, type LoadResult } from '../../load/report.js';
import { missingSeries, parseExposition, serverCharts, type Scrape } from '../../load/server-metrics.js';
import { minSamplesFor, summary } from '../../load/stats.js';
import { Timeline, windowFor } from '../../load/timeline.js';

// The load report's parts, without a run: the exposition parser, the server charts, the timeline, the page.

/** What prom-client's default metrics and a pool gauge by state look like. */
const promClient = (cpuS: number, rssBytes: number, lagS: number) => `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total ${cpuS}
# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes ${rssBytes}
# TYPE nodejs_eventloop_lag_seconds gauge
nodejs_eventloop_lag_seconds ${lagS}
# TYPE lilium_db_pool_connections gauge
lilium_db_pool_connections{state="idle"} 3
lilium_db_pool_connections{state="in_use"} 2
# TYPE lilium_db_pool_wait_seconds histogram
lilium_db_pool_wait_seconds_bucket{le="+Inf"} 7
lilium_db_pool_wait_seconds_sum 0.2
lilium_db_pool_wait_seconds_count 7
`;

/** The hand-written exposition the server has had: no process metrics, pool gauges by kind. */
const handWritten = `# HELP lilium_rpc_in_flight Calls being handled on this node.
# TYPE lilium_rpc_in_flight gauge
lilium_rpc_in_flight 4
# TYPE lilium_db_pool_connections gauge
lilium_db_pool_connections{kind="total"} 10
lilium_db_pool_connections{kind="idle"} 6
`;

describe('parseExposition', () => {
  test('reads names, unescaped labels and values; skips comments, blank lines and timestamps', () => {
    const text = `# HELP x_total A "quoted" help.\n\nx_total{event="a\\"b",code="OK"} 3 1712345678000\ny_bucket{le="+Inf"} +Inf\nz -Inf\nw NaN\n`;
    expect(parseExposition(text)).toEqual([
      { name: 'x_total', labels: { event: 'a"b', code: 'OK' }, value: 3 },
      { name: 'y_bucket', labels: { le: '+Inf' }, value: Infinity },
      { name: 'z', labels: {}, value: -Infinity },
      { name: 'w', labels: {}, value: Number.NaN },
    ]);
  });
});

describe('serverCharts', () => {
  const scrape = (t: number, node: number, text: string): Scrape => ({ t, node, samples: parseExposition(text) });

  test("prom-client's series: CPU as a rate of its counter, memory in MiB, lag in ms, each pool state its own chart", () => {
    const charts = serverCharts([
      scrape(0, 0, promClient(1, 100 * 2 ** 20, 0.002)),
      scrape(0, 1, promClient(4, 200 * 2 ** 20, 0.001)),
      scrape(2, 0, promClient(2, 110 * 2 ** 20, 0.004)),
      scrape(2, 1, promClient(4.5, 210 * 2 ** 20, 0.003)),
    ]);
    expect(charts.map((c) => [c.title, c.unit, c.group])).toEqual([
      ['CPU', '% of one core', 'process_cpu_seconds_total'],
      ['Resident memory (RSS)', 'MiB', 'process_resident_memory_bytes'],
      ['Event-loop lag', 'ms', 'lag'],
      ['Database pool connections: idle', 'connections', 'pool'],
      ['Database pool connections: in use', 'connections', 'pool'],
    ]);
    expect(charts[0]!.lines).toEqual([
      { node: 0, points: [[2, 50]] },
      { node: 1, points: [[2, 25]] },
    ]);
    expect(charts[1]!.lines[1]).toEqual({
      node: 1,
      points: [
        [0, 200],
        [2, 210],
      ],
    });
    expect(charts[2]!.lines[0]).toEqual({
      node: 0,
      points: [
        [0, 2],
        [2, 4],
      ],
    });
    expect(missingSeries(charts)).toEqual([]);
  });

  test('the hand-written exposition: pool and calls in flight are drawn, the process series named as missing', () => {
    const charts = serverCharts([scrape(0, 0, handWritten), scrape(1, 0, handWritten)]);
    expect(charts.map((c) => c.title)).toEqual(['Database pool connections: idle', 'Database pool connections: total', 'Calls in flight']);
    expect(missingSeries(charts)).toEqual(['CPU', 'Resident memory', 'Event-loop lag']);
  });
});

describe('timeline', () => {
  test('a window of one second up to a minute of load, longer after, about 60 in all', () => {
    expect([windowFor(4), windowFor(60), windowFor(61), windowFor(600)]).toEqual([1, 1, 2, 10]);
  });

  test('sorts samples into windows, rates the cut last window by its part, and leaves out percentiles too few samples carry', () => {
    const t0 = 1000;
    const tl = new Timeline(1, t0);
    for (let i = 0; i < 100; i++) tl.record('calls', i + 1, t0 + 100 + i);
    tl.record('calls', 5, t0 + 1200);
    tl.record('errors', 7, t0 + 2100);
    const windows = tl.windowsUntil(t0 + 2500, ['cart:checkout']);
    expect(windows.map((w) => w.t)).toEqual([0, 1, 2]);
    expect(windows[0]!.series).toEqual({
      'cart:checkout': { n: 0, perSecond: 0, p50: null, p99: null },
      calls: { n: 100, perSecond: 100, p50: 50, p99: 99 },
      errors: { n: 0, perSecond: 0, p50: null, p99: null },
    });
    expect(windows[1]!.series.calls).toEqual({ n: 1, perSecond: 1, p50: null, p99: null });
    expect(windows[2]!.series.errors).toEqual({ n: 1, perSecond: 2, p50: null, p99: null });
  });

  test('p50 needs 2 samples, p95 20, p99 100', () => {
    expect([minSamplesFor(50), minSamplesFor(95), minSamplesFor(99)]).toEqual([2, 20, 100]);
  });
});

describe('htmlReport', () => {
  const stat = (n: number) => ({ ...summary(Array.from({ length: n }, (_, i) => i + 1)), perSecond: n / 10 });
  const result: LoadResult = {
    date: '2025-12-01T10:00:00.000Z',
    machine: { cpu: 'Test CPU', cpus: 2, memGiB: 24, os: 'Linux 6', node: 'v20.20.2' },
    config: { nodes: 2, durationS: 10, targetVisitsPerS: 3, shops: 4, searchShare: 0.33, maxItems: 3, vendors: 5, drivers: 6 },
    totals: { visits: 30, skippedAllShopsBusy: 0, checkouts: 30, checkoutsPerS: 3, orders: 40, delivered: 40 },
    events: { 'cart:add': stat(150), '</script><b>x': stat(19) },
    errors: { 'cart:checkout UNAVAILABLE': 2 },
    endToEnd: { checkoutToOrderNewMs: stat(40) },
    checks: { everyOrderReachedItsVendor: true, stockBalances: false, missingLive: 0 },
    timeline: { windowS: 1, loadEndS: 10, endS: 11, windows: [] },
    server: { intervalS: 1, scrapes: 22, failures: 0, charts: [], missing: ['CPU'] },
  };
  const html = htmlReport(result);

  test('says keys in words, with no camelCase key left in the page text', () => {
    const text = html.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ');
    for (const words of [
      'Shop visits per second (target)',
      'Visits that search first',
      '33 %',
      'Checkout sent → order:new at the vendor',
      '✗ broken',
      '1 of 2 checks failed',
    ])
      expect(text).toContain(words);
    expect(text.match(/\b[a-z]+[A-Z][a-zA-Z]*\b/g)).toBeNull();
  });

  test('marks each percentile its sample cannot carry as "n too small"', () => {
    // cart:add (150) carries all; 19 samples carry p50 only; 40 carry p50 and p95.
    expect(html.match(/<td class="na"[^>]*>n too small<\/td>/g)).toHaveLength(3);
  });

  test('is self-contained: Chart.js inline, nothing fetched, and no data can close its script element', () => {
    expect(html).toContain('Chart.js v4');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
    expect(html).not.toContain('sourceMappingURL');
    const data = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(data).not.toContain('<');
    expect(JSON.parse(data).charts.find((c: { id: string }) => c.id === 'by-call').categories).toEqual(['cart:add (n = 150)', '</script><b>x (n = 19)']);
  });
});
