/**
 * The servers' side of a load run: each node's `/metrics` scraped while the run goes, and the series a report
 * draws (CPU, memory, event-loop lag, database pool, calls in flight). Series are found by metric name, so any
 * exposition that has them works; one a node does not expose is simply not drawn.
 */

/** One line of a Prometheus text exposition. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const unescape = (v: string) => v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
const number = (v: string) => (v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v));

/** Parses the text format (version 0.0.4): comments and blank lines skipped, label values unescaped. */
export function parseExposition(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(LABEL)].map(([, k, v]) => [k!, unescape(v!)]));
    samples.push({ name: m[1]!, labels, value: number(m[3]!) });
  }
  return samples;
}

/** One scrape of one node, `t` seconds into the run. */
export interface Scrape {
  t: number;
  node: number;
  samples: MetricSample[];
}

/** Scrapes every node every `intervalS` seconds until stopped; a scrape that fails or takes over 2 s is left out. */
export class MetricsSampler {
  readonly scrapes: Scrape[] = [];
  failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly urls: string[],
    readonly intervalS: number,
    private readonly startedAt = performance.now(),
  ) {}

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalS * 1000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.pending);
  }

  private tick(): void {
    this.urls.forEach((url, node) => {
      const p = this.scrape(url, node).finally(() => this.pending.delete(p));
      this.pending.add(p);
    });
  }

  private async scrape(url: string, node: number): Promise<void> {
    const t = (performance.now() - this.startedAt) / 1000;
    try {
      const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      this.scrapes.push({ t, node, samples: parseExposition(await res.text()) });
    } catch {
      this.failures++;
    }
  }
}

/** A line of a server chart: one node's values over run time. */
export interface ServerLine {
  node: number;
  points: Array<[t: number, value: number]>;
}

export interface ServerChart {
  title: string;
  unit: string;
  /** Charts of one group are drawn on one vertical scale. */
  group: string;
  lines: ServerLine[];
}

interface ChartSpec {
  title: string;
  unit: string;
  group: string;
  /** Which series this chart draws. */
  matches(name: string): boolean;
  /** The value drawn: a counter's rate over the last interval, or a gauge's value, scaled to the unit. */
  rate: boolean;
  scale: number;
}

const named = (metric: string, title: string, unit: string, scale: number, group = metric) => ({
  title,
  unit,
  group,
  matches: (name: string) => name === metric,
  rate: metric.endsWith('_total'),
  scale,
});

/** What the report draws, in order. Pool gauges are found by name, whatever the exposition calls their states. */
const SPECS: ChartSpec[] = [
  named('process_cpu_seconds_total', 'CPU', '% of one core', 100),
  named('process_resident_memory_bytes', 'Resident memory (RSS)', 'MiB', 1 / 2 ** 20),
  named('nodejs_eventloop_lag_seconds', 'Event-loop lag', 'ms', 1000, 'lag'),
  named('nodejs_eventloop_lag_p99_seconds', 'Event-loop lag, p99', 'ms', 1000, 'lag'),
  {
    title: 'Database pool',
    unit: 'connections',
    group: 'pool',
    matches: (name) => name.includes('db_pool') && !/_(bucket|sum|count|created)$/.test(name),
    rate: false,
    scale: 1,
  },
  named('lilium_rpc_in_flight', 'Calls in flight', 'calls', 1),
];

/** The series a report looks for, by the start of their chart titles, to say which ones the servers did not expose. */
const EXPECTED = ['CPU', 'Resident memory', 'Event-loop lag', 'Database pool'];

const seriesKey = (s: MetricSample) =>
  `${s.name}${Object.entries(s.labels)
    .map(([k, v]) => `,${k}=${v}`)
    .join('')}`;

/** A series' own words: `lilium_db_pool_connections{kind="idle"}` is "connections: idle". */
function subtitle(spec: ChartSpec, sample: MetricSample): string {
  if (spec.group !== 'pool') return spec.title;
  const what = sample.name
    .replace(/^.*db_pool_?/, '')
    .replace(/_/g, ' ')
    .trim();
  const labels = Object.values(sample.labels)
    .map((v) => v.replace(/_/g, ' '))
    .join(', ');
  return `${spec.title}${what ? ` ${what}` : ''}${labels ? `: ${labels}` : ''}`;
}

/** Turns the scrapes into charts: one per series found (a pool state is a series), one line per node. */
export function serverCharts(scrapes: Scrape[]): ServerChart[] {
  const charts = new Map<string, ServerChart & { rank: number }>();
  const last = new Map<string, { t: number; value: number }>();
  for (const { t, node, samples } of [...scrapes].sort((a, b) => a.t - b.t)) {
    for (const sample of samples) {
      const rank = SPECS.findIndex((s) => s.matches(sample.name));
      const spec = SPECS[rank];
      if (!spec || !Number.isFinite(sample.value)) continue;
      const key = seriesKey(sample);
      let value = sample.value;
      if (spec.rate) {
        const before = last.get(`${node} ${key}`);
        last.set(`${node} ${key}`, { t, value });
        if (!before || t <= before.t) continue;
        value = (value - before.value) / (t - before.t);
      }
      let chart = charts.get(key);
      if (!chart) charts.set(key, (chart = { title: subtitle(spec, sample), unit: spec.unit, group: spec.group, lines: [], rank }));
      let line = chart.lines.find((l) => l.node === node);
      if (!line) chart.lines.push((line = { node, points: [] }));
      line.points.push([Math.round(t * 100) / 100, Math.round(value * spec.scale * 1000) / 1000]);
    }
  }
  return [...charts.values()]
    .sort((a, b) => a.rank - b.rank || a.title.localeCompare(b.title))
    .map(({ rank: _, ...c }) => ({ ...c, lines: c.lines.sort((a, b) => a.node - b.node) }));
}

/** Which of the series a report looks for no chart has, in words. */
export function missingSeries(charts: ServerChart[]): string[] {
  return EXPECTED.filter((title) => !charts.some((c) => c.title.startsWith(title)));
}
