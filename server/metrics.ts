import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';

const BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

type Read = () => Record<string, number> | number;

interface EventLatency {
  /** Calls per bucket, not cumulative; the last slot counts those above every bound. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * `lilium_rpc_duration_seconds`: latency by event, a Prometheus histogram counted in plain arrays and handed to
 * the registry as a metric of its own (prom-client's registry reads any object with `get()`), because
 * prom-client's labelled `observe` checks and hashes the label set on every call. It exposes exactly what
 * prom-client's Histogram would: its `get()` answers the same value pairs (`le` and the event as shared labels).
 */
class LatencyHistogram {
  readonly name = 'lilium_rpc_duration_seconds';
  readonly help = 'RPC latency by event.';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly byEvent = new Map<string, EventLatency>();

  observe(event: string, seconds: number): void {
    let e = this.byEvent.get(event);
    if (!e) this.byEvent.set(event, (e = { counts: new Array<number>(BUCKETS_S.length + 1).fill(0), sum: 0, count: 0 }));
    let i = 0;
    while (i < BUCKETS_S.length && seconds > BUCKETS_S[i]!) i++;
    e.counts[i]!++;
    e.sum += seconds;
    e.count++;
  }

  get() {
    const values = [];
    for (const [event, e] of this.byEvent) {
      const sharedLabels = { event };
      let below = 0;
      for (const [i, le] of BUCKETS_S.entries())
        values.push({ labels: { le }, sharedLabels, value: (below += e.counts[i]!), metricName: `${this.name}_bucket` });
      values.push({ labels: { le: '+Inf' }, sharedLabels, value: e.count, metricName: `${this.name}_bucket` });
      values.push({ labels: {}, sharedLabels, value: e.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels, value: e.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.byEvent.clear();
  }
}

export interface CounterHandle {
  inc(labels: Record<string, string>, n?: number): void;
}

/**
 * This node's metrics in the Prometheus text format, through prom-client: the runtime's own
 * (process_*, nodejs_*: CPU, memory, event-loop lag, GC, heap) and Lilium's (lilium_*). Each app has
 * its own registry, so several apps in one process (as in the tests) never share a series.
 */
export class Metrics {
  private readonly registry = new Registry();
  private readonly latency = new LatencyHistogram();
  /**
   * Calls by event and code, and errors by code, since the last scrape: counted here and added to the registry's
   * counters when scraped, because a labelled counter's `inc` hashes its label set on every call.
   */
  private readonly callsSince = new Map<string, Map<string, number>>();
  private readonly errorsSince = new Map<string, number>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    const { callsSince, errorsSince } = this;
    new Counter({
      name: 'lilium_rpc_calls_total',
      help: 'RPC calls by event and outcome code.',
      labelNames: ['event', 'code'],
      registers,
      collect() {
        for (const [event, byCode] of callsSince) for (const [code, n] of byCode) this.inc({ event, code }, n);
        callsSince.clear();
      },
    });
    new Counter({
      name: 'lilium_rpc_errors_total',
      help: 'RPC errors by code.',
      labelNames: ['code'],
      registers,
      collect() {
        for (const [code, n] of errorsSince) this.inc({ code }, n);
        errorsSince.clear();
      },
    });
    this.registry.registerMetric(this.latency as unknown as Metric);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** `event` and `code` come from closed sets (the protocol's events and error codes): the maps stay small. */
  observeCall(event: string, code: string, seconds: number): void {
    let byCode = this.callsSince.get(event);
    if (!byCode) this.callsSince.set(event, (byCode = new Map()));
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
    if (code !== 'OK') this.errorsSince.set(code, (this.errorsSince.get(code) ?? 0) + 1);
    this.latency.observe(event, seconds);
  }

  /** A counter of things that happen (its name ends in `_total`); a label-less one starts at 0. */
  counter(name: string, help: string, labelNames: string[]): CounterHandle {
    const counter = new Counter({ name, help, labelNames, registers: [this.registry] });
    return { inc: (labels, n = 1) => counter.inc(labels, n) };
  }

  /**
   * A gauge read when scraped. A record value becomes one series per key, under the label
   * `labelName`; keys missing from a later read disappear rather than keep their last value.
   */
  gauge(name: string, help: string, read: Read, labelName = 'kind'): void {
    new Gauge({
      name,
      help,
      labelNames: [labelName],
      registers: [this.registry],
      collect() {
        const value = read();
        this.reset();
        if (typeof value === 'number') this.set(value);
        else for (const [key, v] of Object.entries(value)) this.set({ [labelName]: key }, v);
      },
    });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
