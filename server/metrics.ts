import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

type Read = () => Record<string, number> | number;

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
  private readonly latency: Histogram<'event'>;
  /**
   * Calls by event and code, and errors by code, since the last scrape: counted here and added to the registry's
   * counters when scraped, because a labelled counter's `inc` hashes its label set on every call.
   */
  private readonly callsSince = new Map<string, Map<string, number>>();
  private readonly errorsSince = new Map<string, number>();
  /** Each event's latency series through its bound child: no label object per call (prom-client still hashes the labels). */
  private readonly latencyOf = new Map<string, { observe(seconds: number): void }>();

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
    this.latency = new Histogram({ name: 'lilium_rpc_duration_seconds', help: 'RPC latency by event.', labelNames: ['event'], buckets: BUCKETS_S, registers });
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
    let latency = this.latencyOf.get(event);
    if (!latency) this.latencyOf.set(event, (latency = this.latency.labels(event)));
    latency.observe(seconds);
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
