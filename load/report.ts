/**
 * The load run as one self-contained HTML page: tables written here, charts drawn in the page by Chart.js, which
 * is read from node_modules and inlined with the small script that feeds it (report-page.js). No downloads.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ServerChart } from './server-metrics.js';
import { minSamplesFor } from './stats.js';
import type { TimelineWindow } from './timeline.js';

interface Stat {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LoadResult {
  date: string;
  machine: Record<string, unknown>;
  config: Record<string, unknown>;
  totals: Record<string, number>;
  events: Record<string, Stat & { perSecond: number }>;
  errors: Record<string, number>;
  endToEnd: Record<string, Stat>;
  checks: Record<string, boolean | number>;
  /** Calls, checkouts and errors per window of run time; the load stops at loadEndS, in-flight work drains until endS. */
  timeline: { windowS: number; loadEndS: number; endS: number; windows: TimelineWindow[] };
  server: { intervalS: number; scrapes: number; failures: number; charts: ServerChart[]; missing: string[] };
}

/** What the page script draws: a line chart over run time, or horizontal bars by category. */
interface PageChart {
  id: string;
  kind: 'time' | 'bars';
  title: string;
  unit: string;
  /** Charts of one group share their value axis. */
  group?: string;
  note?: string;
  categories?: string[];
  series: Array<{ label: string; color: string; dash?: number[]; points?: Array<[number, number | null]>; values?: Array<number | null> }>;
}

// ---- words ----------------------------------------------------------------------------------------------

/** The result's keys in words, with the unit where there is one. */
const LABELS: Record<string, string> = {
  cpu: 'CPU',
  cpus: 'Cores',
  memGiB: 'Memory (GiB)',
  node: 'Node.js',
  os: 'Operating system',
  nodes: 'Server nodes',
  durationS: 'Duration of the load (s)',
  targetVisitsPerS: 'Shop visits per second (target)',
  shops: 'Shops',
  searchShare: 'Visits that search first',
  maxItems: 'Most lines in a cart',
  vendors: 'Vendors (one dashboard each)',
  drivers: 'Drivers',
  visits: 'Shop visits started',
  skippedAllShopsBusy: 'Visits skipped (every shop busy)',
  checkouts: 'Checkouts',
  checkoutsPerS: 'Checkouts per second',
  orders: 'Orders placed',
  delivered: 'Orders delivered and paid',
  everyOrderReachedItsVendor: 'Every order reached its vendor live',
  noOrderPushedTwice: 'No order was pushed twice',
  feedHasEveryOrderOnce: "Each vendor's feed has each of its orders once",
  stockBalances: 'Stock moved only with orders',
  ledgerSumsToZero: 'The ledger sums to zero',
  missingLive: 'Orders that never reached their vendor live',
  duplicatedLive: 'Orders pushed twice live',
  checkoutToOrderNewMs: 'Checkout sent → order:new at the vendor',
  deliveryStatusToShopMs: 'Delivery status sent → the shop sees it',
};
const label = (key: string) => LABELS[key] ?? key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());

const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const num = (v: number) => (Number.isFinite(v) ? v.toLocaleString('en', { maximumFractionDigits: Math.abs(v) < 10 ? 2 : 1 }) : '—');
const ms = (v: number) => (Number.isFinite(v) ? v.toLocaleString('en', { minimumFractionDigits: 1, maximumFractionDigits: 1 }) : '—');
const value = (key: string, v: unknown) =>
  key === 'searchShare' && typeof v === 'number' ? `${Math.round(v * 100)} %` : typeof v === 'number' ? num(v) : String(v);

/** A percentile cell: its value, or "n too small" where the sample cannot carry it. */
function percentileCell(s: Stat, p: 50 | 95 | 99): string {
  const need = minSamplesFor(p);
  if (s.n >= need) return `<td>${ms(s[`p${p}`])}</td>`;
  return `<td class="na" title="p${p} needs at least ${need} samples; this has ${s.n}">n too small</td>`;
}

const rowsTable = (caption: string, rows: Array<[string, string]>) =>
  `<table class="kv"><caption>${esc(caption)}</caption>${rows.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;

const kvTable = (caption: string, record: Record<string, unknown>) =>
  rowsTable(
    caption,
    Object.entries(record).map(([k, v]) => [label(k), value(k, v)]),
  );

function statsTable(head: string, rows: Array<[string, Stat & { perSecond?: number }]>, perSecond: boolean): string {
  const th = ['Calls', ...(perSecond ? ['Per second'] : []), 'p50 (ms)', 'p95 (ms)', 'p99 (ms)', 'Max (ms)'];
  return `<table class="stats"><thead><tr><th>${esc(head)}</th>${th.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows
    .map(
      ([name, s]) =>
        `<tr><th scope="row">${esc(name)}</th><td>${num(s.n)}</td>${perSecond ? `<td>${num(s.perSecond ?? Number.NaN)}</td>` : ''}${percentileCell(s, 50)}${percentileCell(s, 95)}${percentileCell(s, 99)}<td>${ms(s.max)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

// ---- charts ---------------------------------------------------------------------------------------------

const PERCENTILE_COLORS = { p50: '#2563eb', p95: '#d97706', p99: '#dc2626' };
/** One colour per node, the same in every server chart. */
const NODE_COLORS = ['#2563eb', '#d97706', '#059669', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#475569'];

/** Bars of p50, p95 and p99 per row on one axis; a percentile the row has too few samples for is left out. */
function percentileBars(id: string, title: string, rows: Array<[string, Stat]>): PageChart {
  const bar = (p: 50 | 95 | 99) => rows.map(([, s]) => (s.n >= minSamplesFor(p) ? s[`p${p}`] : null));
  return {
    id,
    kind: 'bars',
    title,
    unit: 'ms',
    note: 'A bar is left out where the sample is too small for its percentile: p95 needs 20 samples, p99 100.',
    categories: rows.map(([name, s]) => `${name} (n = ${s.n})`),
    series: (['p50', 'p95', 'p99'] as const).map((p) => ({ label: p, color: PERCENTILE_COLORS[p], values: bar(Number(p.slice(1)) as 50 | 95 | 99) })),
  };
}

function timeCharts(r: LoadResult): PageChart[] {
  const { windows, windowS } = r.timeline;
  const at = (w: TimelineWindow) => w.t + windowS / 2;
  const line = (series: string, field: 'perSecond' | 'p50' | 'p99') => windows.map((w): [number, number | null] => [at(w), w.series[series]?.[field] ?? null]);
  const hasErrors = windows.some((w) => (w.series.errors?.n ?? 0) > 0);
  const target = Number(r.config.targetVisitsPerS);
  const windowWords = `${windowS} s window${windowS === 1 ? '' : 's'}`;
  const latency = (id: string, title: string, series: string): PageChart => ({
    id,
    kind: 'time',
    title,
    unit: 'ms',
    group: 'latency',
    note: `Per ${windowWords}. p99 is drawn only for windows with at least 100 samples, p50 for at least 2; a gap means too few.`,
    series: [
      { label: 'p50', color: PERCENTILE_COLORS.p50, points: line(series, 'p50') },
      { label: 'p99', color: PERCENTILE_COLORS.p99, points: line(series, 'p99') },
    ],
  });
  return [
    {
      id: 'calls-per-second',
      kind: 'time',
      title: 'Calls per second',
      unit: 'per second',
      note: `Every call the clients made, answered per ${windowWords}${hasErrors ? '; errors beside them' : ''}.`,
      series: [
        { label: 'answered calls', color: '#2563eb', points: line('calls', 'perSecond') },
        ...(hasErrors ? [{ label: 'errors', color: '#dc2626', points: line('errors', 'perSecond') }] : []),
      ],
    },
    {
      id: 'checkouts-per-second',
      kind: 'time',
      title: 'Checkouts per second',
      unit: 'per second',
      note: 'Each shop visit ends in a checkout: the dashed line is the rate asked for.',
      series: [
        { label: 'checkouts answered', color: '#059669', points: line('cart:checkout', 'perSecond') },
        ...(Number.isFinite(target)
          ? [
              {
                label: 'target',
                color: '#64748b',
                dash: [6, 4],
                points: [
                  [0, target],
                  [r.timeline.loadEndS, target],
                ] as Array<[number, number]>,
              },
            ]
          : []),
      ],
    },
    latency('call-latency', 'Latency of every call over time', 'calls'),
    latency('checkout-latency', 'Latency of cart:checkout over time', 'cart:checkout'),
  ];
}

function serverPageCharts(r: LoadResult): PageChart[] {
  return r.server.charts.map((c, i) => ({
    id: `server-${i}`,
    kind: 'time',
    title: c.title,
    unit: c.unit,
    group: `server ${c.group}`,
    series: c.lines.map((l) => ({ label: `node ${l.node + 1}`, color: NODE_COLORS[l.node % NODE_COLORS.length]!, points: l.points })),
  }));
}

const figure = (c: PageChart, height: number) =>
  `<figure><figcaption>${esc(c.title)}</figcaption><div class="plot" style="height:${height}px"><canvas id="${c.id}" data-chart="${esc(c.title)}" role="img" aria-label="${esc(c.title)}"></canvas></div>${c.note ? `<p class="note">${esc(c.note)}</p>` : ''}</figure>`;

const barsHeight = (c: PageChart) => 90 + 34 * (c.categories?.length ?? 0);

// ---- the page -------------------------------------------------------------------------------------------

function chartLibrary(): string {
  const dist = dirname(createRequire(import.meta.url).resolve('chart.js'));
  const strip = (js: string) => js.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  return strip(readFileSync(join(dist, 'chart.umd.min.js'), 'utf8')) + readFileSync(new URL('./report-page.js', import.meta.url), 'utf8');
}

/** Data for a script element: `<` escaped so no string in it can close the element. */
const scriptJson = (data: unknown) => JSON.stringify(data).replace(/</g, '\\u003c');

const CSS = `
body{font:15px/1.45 system-ui,sans-serif;color:#1e293b;margin:0;background:#f8fafc}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:36px 0 10px;padding-top:8px;border-top:1px solid #e2e8f0}
.sub{color:#64748b;margin:0 0 18px}
.verdict{display:inline-block;padding:4px 12px;border-radius:14px;font-weight:600}
.verdict.ok{background:#dcfce7;color:#166534}.verdict.bad{background:#fee2e2;color:#991b1b}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:10px 16px;min-width:130px}
.card b{display:block;font-size:22px}.card span{color:#64748b;font-size:13px}
.side{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
table{border-collapse:collapse;background:#fff;margin:8px 0}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border:1px solid #e2e8f0;padding:5px 10px;text-align:right;font-variant-numeric:tabular-nums}
thead th{background:#f1f5f9}thead th:first-child{text-align:left}th[scope=row]{text-align:left;font-weight:500;background:#f8fafc}
table.kv td{text-align:left}
td.na{color:#94a3b8;font-style:italic}td.ok{color:#15803d}td.bad{color:#b91c1c;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:18px}
figure{margin:0;background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:12px 14px}
figcaption{font-weight:600;margin-bottom:6px}.plot{position:relative}
.note{color:#64748b;font-size:13px;margin:6px 0 0}
code{font-size:13px}
`;

export function htmlReport(r: LoadResult): string {
  const mustHold = Object.entries(r.checks).filter(([, v]) => typeof v === 'boolean');
  const broken = mustHold.filter(([, v]) => v !== true).length;
  const events = Object.entries(r.events);
  const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
  const calls = events.reduce((a, [, s]) => a + s.n, 0);
  const time = timeCharts(r);
  const server = serverPageCharts(r);
  const bars = [
    percentileBars(
      'end-to-end',
      'End to end',
      Object.entries(r.endToEnd).map(([k, s]) => [label(k), s]),
    ),
    percentileBars('by-call', 'Latency by call', events),
  ];
  const data = { loadEndS: r.timeline.loadEndS, endS: r.timeline.endS, charts: [...time, ...server, ...bars] };
  const card = (v: string, what: string) => `<div class="card"><b>${esc(v)}</b><span>${esc(what)}</span></div>`;
  const serverNote = r.server.missing.length
    ? `<p class="note">Not exposed by the servers' <code>/metrics</code>, so not drawn: ${esc(r.server.missing.join(', '))}.</p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Lilium load run ${esc(r.date)}</title><style>${CSS}</style></head><body><main>
<h1>Lilium load run</h1>
<p class="sub">${esc(new Date(r.date).toUTCString())} · ${esc(String(r.config.nodes))} nodes · ${esc(String(r.config.durationS))} s of load</p>
<p><span class="verdict ${broken ? 'bad' : 'ok'}">${broken ? `${broken} of ${mustHold.length} checks failed` : `All ${mustHold.length} checks hold`}</span></p>
<div class="cards">${card(num(r.totals.checkoutsPerS ?? Number.NaN), 'checkouts per second')}${card(num(r.totals.orders ?? Number.NaN), 'orders placed')}${card(
    num(r.totals.delivered ?? Number.NaN),
    'delivered and paid',
  )}${card(num(calls), 'calls answered')}${card(num(errors), 'errors')}</div>

<h2>The run</h2>
<div class="side">${kvTable('Machine', r.machine)}${kvTable('Configuration', r.config)}${kvTable('Totals', r.totals)}</div>
<table class="checks"><caption>Checks after the run</caption><tbody>${Object.entries(r.checks)
    .map(([k, v]) => {
      const ok = v === true || v === 0;
      return `<tr><th scope="row">${esc(label(k))}</th><td class="${ok ? 'ok' : 'bad'}">${typeof v === 'boolean' ? (v ? '✓ holds' : '✗ broken') : esc(num(v))}</td></tr>`;
    })
    .join('')}</tbody></table>

<h2>Over time</h2>
<p class="note">The dashed vertical line is where the load stops; after it, work already under way finishes.</p>
<div class="grid">${time.map((c) => figure(c, 260)).join('')}</div>

<h2>Server side</h2>
<p class="note">Each node's <code>/metrics</code>, read every ${esc(r.server.intervalS)} s (${esc(r.server.scrapes)} reads, ${esc(r.server.failures)} failed). Charts of one kind share their scale.</p>
${serverNote}
<div class="grid">${server.map((c) => figure(c, 220)).join('')}</div>

<h2>Latency</h2>
${figure(bars[0]!, barsHeight(bars[0]!))}
${statsTable(
  'Path',
  Object.entries(r.endToEnd).map(([k, s]) => [label(k), s]),
  false,
)}
${figure(bars[1]!, barsHeight(bars[1]!))}
${statsTable('Call', events, true)}

<h2>Errors</h2>
${
  Object.keys(r.errors).length
    ? `<table class="stats"><thead><tr><th>Call and code</th><th>Count</th></tr></thead><tbody>${Object.entries(r.errors)
        .map(([k, n]) => `<tr><th scope="row">${esc(k)}</th><td>${num(n)}</td></tr>`)
        .join('')}</tbody></table>`
    : '<p>None.</p>'
}
</main>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${chartLibrary()}</script>
</body></html>
`;
}
