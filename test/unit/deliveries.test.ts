import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { MAX_RETRY_AFTER_MS, retryDelayMs } from '../../server/notifications/retry.js';

// The delivery backoff, without a database.

describe('retryDelayMs', () => {
  const backoff = { retryBaseMs: 1_000, retryMaxMs: 60_000 };
  const at = (random: number) => () => random;

  test('the ceiling doubles from the base with each failed try, up to the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelayMs(n, backoff, null, at(1)))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(retryDelayMs(100, backoff, null, at(1))).toBe(60_000);
  });

  test('half of each wait is fixed and half is random (equal jitter)', () => {
    expect([0, 0.25, 0.5, 0.999].map((r) => retryDelayMs(3, backoff, null, at(r)))).toEqual([2_000, 2_500, 3_000, 3_998]);
    const waits = new Set(Array.from({ length: 50 }, () => retryDelayMs(3, backoff, null)));
    expect(waits.size).toBeGreaterThan(1);
    for (const w of waits) expect(w >= 2_000 && w <= 4_000).toBe(true);
  });

  test('never less than a Retry-After asks, even beyond the maximum, up to a day', () => {
    expect(retryDelayMs(1, backoff, 30_000, at(0))).toBe(30_000);
    expect(retryDelayMs(1, backoff, 3_600_000, at(0))).toBe(3_600_000);
    expect(retryDelayMs(1, backoff, 10 * MAX_RETRY_AFTER_MS, at(0))).toBe(MAX_RETRY_AFTER_MS);
    // A Retry-After shorter than the backoff changes nothing.
    expect(retryDelayMs(5, backoff, 10, at(0))).toBe(8_000);
  });

  test('with the defaults, a provider down for an hour loses nothing: even the shortest waits of all tries span more than an hour', () => {
    const { deliveries } = loadConfig({});
    const waits = Array.from({ length: deliveries.maxAttempts - 1 }, (_, i) => retryDelayMs(i + 1, deliveries, null, at(0)));
    expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThan(3_600_000);
  });
});
