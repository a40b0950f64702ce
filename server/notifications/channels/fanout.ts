import { DeliveryError } from './channel.js';

const asDeliveryError = (err: unknown) => (err instanceof DeliveryError ? err : new DeliveryError(err instanceof Error ? err.message : String(err), true));

/**
 * Sends to every target of one user at once. Resolves when each was accepted or removed as gone; otherwise
 * throws one DeliveryError: retryable when any failure was (after the longest Retry-After given), final when
 * every failure was. A retry sends to all targets again, so apps de-duplicate on the delivery id.
 */
export async function settleAll(sends: Array<Promise<void>>): Promise<void> {
  const failures = (await Promise.allSettled(sends)).flatMap((r) => (r.status === 'rejected' ? [asDeliveryError(r.reason)] : []));
  if (!failures.length) return;
  const message = [...new Set(failures.map((f) => f.message))].join('; ');
  const retryable = failures.filter((f) => f.retryable);
  if (!retryable.length) throw new DeliveryError(message, false);
  const waits = retryable.flatMap((f) => (f.retryAfterMs === null ? [] : [f.retryAfterMs]));
  throw new DeliveryError(message, true, waits.length ? Math.max(...waits) : null);
}
