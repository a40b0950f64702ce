import type { Redis } from 'ioredis';
import type { Tx } from '../db/tx.js';

/**
 * Hot reads shared by every node through Redis, or kept in memory on a single node without it.
 * Each name has a generation: invalidating bumps it, so a load that raced an invalidation writes
 * under the old generation, which nobody reads again. Without a ready Redis, reads go to the database.
 */
export class ReadCache {
  private readonly local = new Map<string, { gen: number; value: unknown }>();
  private readonly localGen = new Map<string, number>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly redis: Redis | null,
    private readonly prefix: string,
    /** Bounds how long a node can serve a value whose invalidation it missed (Redis down at that moment). */
    private readonly ttlS = 60,
  ) {}

  async get<T>(name: string, load: () => Promise<T>): Promise<T> {
    if (!this.redis) return this.getLocal(name, load);
    if (this.redis.status !== 'ready') return load();
    try {
      const gen = (await this.redis.get(`${this.prefix}:cache:${name}:gen`)) ?? '0';
      const key = `${this.prefix}:cache:${name}:${gen}`;
      const hit = await this.redis.get(key);
      if (hit !== null) {
        this.hits++;
        return JSON.parse(hit) as T;
      }
      this.misses++;
      const value = await load();
      await this.redis.set(key, JSON.stringify(value), 'EX', this.ttlS);
      return value;
    } catch {
      return load();
    }
  }

  private async getLocal<T>(name: string, load: () => Promise<T>): Promise<T> {
    const gen = this.localGen.get(name) ?? 0;
    const cached = this.local.get(name);
    if (cached && cached.gen === gen) {
      this.hits++;
      return cached.value as T;
    }
    this.misses++;
    const value = await load();
    if ((this.localGen.get(name) ?? 0) === gen) this.local.set(name, { gen, value });
    return value;
  }

  async invalidate(name: string): Promise<void> {
    this.localGen.set(name, (this.localGen.get(name) ?? 0) + 1);
    this.local.delete(name);
    if (this.redis?.status === 'ready') await this.redis.incr(`${this.prefix}:cache:${name}:gen`).catch(() => undefined);
  }

  /** Invalidates once the transaction commits, so no node reloads the old state in between. */
  invalidateAfter(tx: Tx, name: string): void {
    tx.afterCommit(() => this.invalidate(name));
  }
}
