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
  private readonly calls: Counter<'event' | 'code'>;
  private readonly errors: Counter<'code'>;
  private readonly latency: Histogram<'event'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.calls = new Counter({ name: 'lilium_rpc_calls_total', help: 'RPC calls by event and outcome code.', labelNames: ['event', 'code'], registers });
    this.errors = new Counter({ name: 'lilium_rpc_errors_total', help: 'RPC errors by code.', labelNames: ['code'], registers });
    this.latency = new Histogram({ name: 'lilium_rpc_duration_seconds', help: 'RPC latency by event.', labelNames: ['event'], buckets: BUCKETS_S, registers });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  observeCall(event: string, code: string, seconds: number): void {
    this.calls.inc({ event, code });
    if (code !== 'OK') this.errors.inc({ code });
    this.latency.observe({ event }, seconds);
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
