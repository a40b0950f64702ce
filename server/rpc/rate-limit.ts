export type Take = { ok: true } | { ok: false; retryInMs: number; first: boolean };

/** Every granted take answers this one object: a call allocates nothing here. */
const GRANTED: Take = Object.freeze({ ok: true });

interface Bucket {
  tokens: number;
  at: number;
  /** The last take was refused: the next refusal is not the first of its run. */
  refused: boolean;
}

/** A token bucket per key (user id when signed in; socket id and client address before): `ratePerS` refill, `burst` capacity. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  /** Takes one token; answers how long to wait when there is none, and whether this is the first refusal in a row. */
  take(key: string): Take {
    const now = this.now();
    let b = this.buckets.get(key);
    if (b) b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerS);
    else this.buckets.set(key, (b = { tokens: this.burst, at: now, refused: false }));
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      b.refused = false;
      return GRANTED;
    }
    const first = !b.refused;
    b.refused = true;
    return { ok: false, retryInMs: Math.ceil(((1 - b.tokens) / this.ratePerS) * 1000), first };
  }

  private sweep(): void {
    const idle = this.now() - (this.burst / this.ratePerS) * 1000;
    for (const [key, b] of this.buckets) if (b.at < idle) this.buckets.delete(key);
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
