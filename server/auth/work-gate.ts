import { performance } from 'node:perf_hooks';
import { AppError } from '../errors.js';

export interface GateLimits {
  /** Pieces of work running at once. */
  concurrency: number;
  /** Places (held, waiting or running) one key may have. */
  perKey: number;
  /** Places beyond the running ones, in all. */
  queue: number;
}

/** One admitted piece of work: run it once, or dispose of it to give its place back unused. */
export interface Pass extends Disposable {
  run<T>(work: () => Promise<T>): Promise<T>;
}

interface Ticket {
  key: string;
  state: 'held' | 'waiting' | 'running' | 'done';
  /** Set when a newcomer took this ticket's place before it ran. */
  refused?: AppError;
  start?: () => void;
  refuse?: (err: AppError) => void;
}

/** How fast a key's recent use is forgotten. */
const USE_HALF_LIFE_MS = 60_000;

/**
 * Bounds costly work (password hashing) on one node, so a flood cannot queue unbounded work in
 * front of everyone else. At most `concurrency` pieces run at once; a key (a client address) holds
 * at most `perKey` places and all keys together `concurrency + queue`; beyond that, RATE_LIMITED
 * with `retryInMs`. Waiting work starts by the key that has asked least lately (a decaying count
 * of admissions), so a client that rarely signs in waits for the pieces already running, not for a
 * flood's queue, and flooding keys share what is left. When every place is taken, a key holding
 * none takes the newest place not yet running of the key holding the most, so a few flooding
 * addresses cannot shut everyone else out.
 */
export class WorkGate {
  private running = 0;
  private places = 0;
  /** Each key's tickets not done, oldest first. */
  private readonly tickets = new Map<string, Ticket[]>();
  /** Keys with waiting tickets, each in the order its tickets came. */
  private readonly turns = new Map<string, Ticket[]>();
  /** Each key's recent use: a count of admitted pieces that halves every USE_HALF_LIFE_MS. */
  private readonly use = new Map<string, { count: number; at: number }>();
  /** Recent average run time, for telling refused callers when to retry. */
  private averageMs = 100;

  constructor(private readonly limits: GateLimits) {}

  /** A place for one piece of work from `key`, or RATE_LIMITED. */
  admit(key: string): Pass {
    const mine = this.tickets.get(key)?.length ?? 0;
    if (mine >= this.limits.perKey) throw this.refusal();
    if (this.places >= this.limits.concurrency + this.limits.queue && !(mine === 0 && this.evict())) throw this.refusal();
    const ticket: Ticket = { key, state: 'held' };
    this.used(key, performance.now());
    this.places++;
    this.tickets.set(key, [...(this.tickets.get(key) ?? []), ticket]);
    return {
      run: async <T>(work: () => Promise<T>): Promise<T> => {
        if (ticket.refused) throw ticket.refused;
        if (ticket.state !== 'held') throw new Error('a pass runs once');
        try {
          await this.turn(ticket);
          ticket.state = 'running';
          const started = performance.now();
          try {
            return await work();
          } finally {
            this.averageMs = 0.8 * this.averageMs + 0.2 * (performance.now() - started);
            this.running--;
            this.next();
          }
        } finally {
          this.release(ticket);
        }
      },
      // A pass that has started gives its place back when its run ends.
      [Symbol.dispose]: () => {
        if (ticket.state === 'held') this.release(ticket);
      },
    };
  }

  private release(ticket: Ticket): void {
    if (ticket.state === 'done') return;
    ticket.state = 'done';
    this.places--;
    const left = this.tickets.get(ticket.key)!.filter((t) => t !== ticket);
    if (left.length) this.tickets.set(ticket.key, left);
    else this.tickets.delete(ticket.key);
  }

  /** Resolves once the ticket holds a running slot (counted before it resolves, so no two take the last one). */
  private turn(ticket: Ticket): Promise<void> {
    if (this.running < this.limits.concurrency && this.turns.size === 0) {
      this.running++;
      return Promise.resolve();
    }
    ticket.state = 'waiting';
    return new Promise((start, refuse) => {
      Object.assign(ticket, { start, refuse });
      this.turns.set(ticket.key, [...(this.turns.get(ticket.key) ?? []), ticket]);
    });
  }

  private next(): void {
    while (this.running < this.limits.concurrency && this.turns.size) {
      const now = performance.now();
      let key: string | undefined;
      for (const k of this.turns.keys()) if (key === undefined || this.usedLately(k, now) < this.usedLately(key, now)) key = k;
      const [ticket, ...rest] = this.turns.get(key!)!;
      if (rest.length) this.turns.set(key!, rest);
      else this.turns.delete(key!);
      this.running++;
      ticket!.start!();
    }
  }

  private usedLately(key: string, now: number): number {
    const u = this.use.get(key);
    return u ? u.count * 0.5 ** ((now - u.at) / USE_HALF_LIFE_MS) : 0;
  }

  private used(key: string, now: number): void {
    this.use.set(key, { count: this.usedLately(key, now) + 1, at: now });
    // Forget keys whose use has faded, so the map stays as small as the recent clientele.
    if (this.use.size > 10_000) for (const k of this.use.keys()) if (this.usedLately(k, now) < 0.01) this.use.delete(k);
  }

  /** Refuses the newest ticket not yet running of the key holding the most places, when it holds more than one. */
  private evict(): boolean {
    let victim: Ticket[] | undefined;
    for (const held of this.tickets.values()) if (!victim || held.length > victim.length) victim = held;
    const ticket = victim && victim.length > 1 ? victim.findLast((t) => t.state === 'held' || t.state === 'waiting') : undefined;
    if (!ticket) return false;
    const refusal = this.refusal();
    if (ticket.state === 'waiting') {
      const waiting = this.turns.get(ticket.key)!.filter((t) => t !== ticket);
      if (waiting.length) this.turns.set(ticket.key, waiting);
      else this.turns.delete(ticket.key);
      ticket.refuse!(refusal);
    } else {
      ticket.refused = refusal;
    }
    this.release(ticket);
    return true;
  }

  private refusal(): AppError {
    const ahead = this.places - this.running;
    const retryInMs = Math.max(1, Math.ceil(this.averageMs * (ahead / this.limits.concurrency + 1)));
    return new AppError('RATE_LIMITED', 'too many password checks at once; retry shortly', { retryInMs });
  }
}
