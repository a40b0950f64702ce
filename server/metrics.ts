const BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

type Gauge = () => Record<string, number> | number;

const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** A counter with labels, as prom-client's: `inc({ channel: 'sms', outcome: 'sent' })`. */
export interface Counter {
  inc(labels: Record<string, string>, n?: number): void;
}

/** A small Prometheus text-format registry: RPC counts, latencies, error codes, labelled counters and sampled gauges. */
export class Metrics {
  private readonly calls = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  private readonly errors = new Map<string, number>();
  private readonly gauges = new Map<string, { help: string; read: Gauge; labelName: string }>();
  private readonly counters = new Map<string, { help: string; labelNames: string[]; values: Map<string, number> }>();

  observeCall(event: string, code: string, seconds: number): void {
    const key = `${event}\u0000${code}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    if (code !== 'OK') this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    let h = this.latency.get(event);
    if (!h) this.latency.set(event, (h = { counts: BUCKETS_S.map(() => 0), sum: 0, count: 0 }));
    h.sum += seconds;
    h.count++;
    const i = BUCKETS_S.findIndex((b) => seconds <= b);
    if (i >= 0) h.counts[i]!++;
  }

  /** A gauge read when scraped; a record value becomes one series per key (label `labelName`, `kind` unless given). */
  gauge(name: string, help: string, read: Gauge, labelName = 'kind'): void {
    this.gauges.set(name, { help, read, labelName });
  }

  /** A counter whose series are told apart by `labelNames`; each `inc` names a value for every one of them. */
  counter(name: string, help: string, labelNames: string[]): Counter {
    const values = new Map<string, number>();
    this.counters.set(name, { help, labelNames, values });
    return {
      inc: (labels, n = 1) => {
        const key = labelNames.map((l) => `${l}="${label(labels[l] ?? '')}"`).join(',');
        values.set(key, (values.get(key) ?? 0) + n);
      },
    };
  }

  render(): string {
    const out: string[] = [];
    out.push('# HELP lilium_rpc_calls_total RPC calls by event and outcome code.', '# TYPE lilium_rpc_calls_total counter');
    for (const [key, n] of this.calls) {
      const [event, code] = key.split('\u0000') as [string, string];
      out.push(`lilium_rpc_calls_total{event="${label(event)}",code="${code}"} ${n}`);
    }
    out.push('# HELP lilium_rpc_duration_seconds RPC latency by event.', '# TYPE lilium_rpc_duration_seconds histogram');
    for (const [event, h] of this.latency) {
      let cumulative = 0;
      BUCKETS_S.forEach((b, i) => {
        cumulative += h.counts[i]!;
        out.push(`lilium_rpc_duration_seconds_bucket{event="${label(event)}",le="${b}"} ${cumulative}`);
      });
      out.push(`lilium_rpc_duration_seconds_bucket{event="${label(event)}",le="+Inf"} ${h.count}`);
      out.push(`lilium_rpc_duration_seconds_sum{event="${label(event)}"} ${h.sum}`);
      out.push(`lilium_rpc_duration_seconds_count{event="${label(event)}"} ${h.count}`);
    }
    out.push('# HELP lilium_rpc_errors_total RPC errors by code.', '# TYPE lilium_rpc_errors_total counter');
    for (const [code, n] of this.errors) out.push(`lilium_rpc_errors_total{code="${code}"} ${n}`);
    for (const [name, { help, values }] of this.counters) {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [key, n] of values) out.push(`${name}{${key}} ${n}`);
    }
    for (const [name, { help, read, labelName }] of this.gauges) {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      const value = read();
      if (typeof value === 'number') out.push(`${name} ${value}`);
      else for (const [key, v] of Object.entries(value)) out.push(`${name}{${labelName}="${label(key)}"} ${v}`);
    }
    return `${out.join('\n')}\n`;
  }
}
