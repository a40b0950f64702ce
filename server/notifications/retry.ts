/** The longest wait a provider's Retry-After is honoured for: beyond it the answer is taken for a mistake. */
export const MAX_RETRY_AFTER_MS = 24 * 3600_000;

/**
 * How long a delivery waits after its `attempt`-th failed try (1 for the first): exponential from `baseMs`, capped
 * at `maxMs`, with equal jitter (half of it fixed, half random), so messages that failed together do not all come
 * back at the same moment; and never less than the provider asked for with Retry-After (a 429), up to a day.
 */
export function retryDelayMs(attempt: number, backoff: { retryBaseMs: number; retryMaxMs: number }, retryAfterMs: number | null, random = Math.random): number {
  const ceiling = Math.min(backoff.retryMaxMs, backoff.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = ceiling / 2 + (random() * ceiling) / 2;
  return Math.round(Math.max(jittered, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS)));
}
