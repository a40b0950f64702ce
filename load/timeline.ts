/** Samples sorted into fixed windows of run time, so a report can show throughput and latency over time. */
import { minSamplesFor, summary } from './stats.js';

/** A percentile is null where the window has too few samples for it (see minSamplesFor). */
export interface WindowStat {
  n: number;
  perSecond: number;
  p50: number | null;
  p99: number | null;
}

export interface TimelineWindow {
  /** Seconds from the start of the run to the start of this window. */
  t: number;
  series: Record<string, WindowStat>;
}

/** A window length that keeps a run to about 60 points: 1 s up to a minute, longer beyond. */
export const windowFor = (durationS: number): number => Math.max(1, Math.ceil(durationS / 60));

export class Timeline {
  private readonly windows: Array<Map<string, number[]>> = [];

  constructor(
    readonly windowS: number,
    readonly startedAt = performance.now(),
  ) {}

  /** A latency (ms) of `series`, counted in the window it ended in. */
  record(series: string, ms: number, at = performance.now()): void {
    const i = Math.max(0, Math.floor((at - this.startedAt) / 1000 / this.windowS));
    const window = (this.windows[i] ??= new Map());
    let samples = window.get(series);
    if (!samples) window.set(series, (samples = []));
    samples.push(ms);
  }

  /** Every window up to `endAt`, empty ones included; the last is cut at `endAt`, and its rate counts only its part. */
  windowsUntil(endAt = performance.now(), names: string[] = []): TimelineWindow[] {
    const endS = (endAt - this.startedAt) / 1000;
    const count = Math.max(this.windows.length, Math.ceil(endS / this.windowS));
    const all = new Set([...names, ...this.windows.flatMap((w) => (w ? [...w.keys()] : []))]);
    return Array.from({ length: count }, (_, i) => {
      const t = i * this.windowS;
      const seconds = Math.max(0.001, Math.min(this.windowS, endS - t));
      const series = Object.fromEntries(
        [...all].map((name) => {
          const samples = this.windows[i]?.get(name) ?? [];
          const { n, p50, p99 } = summary(samples);
          const enough = (p: number, v: number) => (n >= minSamplesFor(p) ? v : null);
          return [name, { n, perSecond: Math.round((n / seconds) * 10) / 10, p50: enough(50, p50), p99: enough(99, p99) }];
        }),
      );
      return { t, series };
    });
  }
}
