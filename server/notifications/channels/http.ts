import { DeliveryError } from './channel.js';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** Retry-After in milliseconds, from delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // Every HTTP-date form starts with the day's name.
  if (!/^[A-Za-z]/.test(v)) return null;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * POSTs with one deadline over the whole exchange (connecting, the answer and its body). Not answering in
 * time and not being reachable are both worth a retry. Redirects are not followed: a provider that
 * redirects a send is misconfigured, and following it would post the message somewhere else.
 */
export async function post(
  service: string,
  url: string,
  init: { headers: Record<string, string>; body: string | Uint8Array },
  timeoutMs: number,
): Promise<Answer> {
  try {
    const res = await fetch(url, { method: 'POST', headers: init.headers, body: init.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, headers: res.headers, text: await res.text() };
  } catch (err) {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      throw new DeliveryError(`${service} did not answer within ${timeoutMs} ms`, true);
    }
    const cause = (err as { cause?: { code?: string } }).cause;
    throw new DeliveryError(`${service} is unreachable (${cause?.code ?? (err as Error).message})`, true);
  }
}

export const accepted = (a: Answer) => a.status >= 200 && a.status < 300;

/**
 * A send that was not accepted: 429 and 5xx are worth retrying (after Retry-After when given), any other
 * status is final. The answer's body is left out: a gateway may echo the message, and a secret one must
 * not reach a log.
 */
export function refusal(service: string, a: Answer, what = ''): DeliveryError {
  const retryable = a.status === 429 || a.status >= 500;
  return new DeliveryError(
    `${service} answered ${a.status}${what ? ` ${what}` : ''}`,
    retryable,
    retryable ? retryAfterMs(a.headers.get('retry-after')) : null,
  );
}
