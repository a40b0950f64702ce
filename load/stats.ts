/** Percentile of already-sorted samples (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * The fewest samples percentile `p` says anything with: below 100/(100 - p) the nearest rank is the maximum
 * (p99 of 99 samples is the slowest one), so a report shows "n too small" instead. p50 needs 2, p95 20, p99 100.
 */
export const minSamplesFor = (p: number): number => Math.ceil(100 / (100 - p) - 1e-9);

export function summary(samplesMs: number[]) {
  const s = [...samplesMs].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return { n: s.length, p50: round(percentile(s, 50)), p95: round(percentile(s, 95)), p99: round(percentile(s, 99)), max: round(s.at(-1) ?? Number.NaN) };
}

/** Runs `task` with `concurrency` workers until `count` tasks are done; answers the latencies in ms. */
export async function runBounded(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
): Promise<{ latencies: number[]; seconds: number; errors: Record<string, number> }> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        try {
          await task(i);
          latencies.push(performance.now() - t);
        } catch (e) {
          const code = (e as { code?: string }).code ?? 'ERROR';
          errors[code] = (errors[code] ?? 0) + 1;
        }
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000, errors };
}
