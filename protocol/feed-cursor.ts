/** The part of a stored push's envelope that orders it. */
export interface Sequenced {
  seq: number;
}

/**
 * Hands a client's stored pushes on once each and in seq order, whether they arrive live or in
 * `feed:sync` pages. While a sync runs, live pushes are held back: pages still to come may carry
 * lower seqs. When the sync ends, the held pushes it did not cover follow in seq order. Seqs skip
 * the events of other rooms, so a gap is normal and never waited for.
 *
 * Why a held push above the last page is never ahead of a missing one: the server publishes each
 * push after its commit and in seq order, and the socket is in its rooms before the sync starts, so
 * every push numbered up to the sync's top is in its pages, and every one above it arrives live.
 */
export class FeedCursor<E extends Sequenced> {
  private seq: number;
  /** Starting from now: the first sync's pages only move the cursor, nothing is handed on. */
  private skipping: boolean;
  private syncing = false;
  private readonly held = new Map<number, E>();

  /**
   * `lastSeq`: the last seq the app has applied. Undefined: start from now, skipping the backlog the
   * server still keeps (pushes that arrive live during the first sync are still handed on).
   */
  constructor(
    lastSeq: number | undefined,
    private readonly deliver: (push: E) => void,
  ) {
    this.seq = lastSeq ?? 0;
    this.skipping = lastSeq === undefined;
  }

  /** The last seq handed on or covered by a sync; undefined until the first sync when starting from now. */
  get lastSeq(): number | undefined {
    return this.skipping ? undefined : this.seq;
  }

  /** Where the next `feed:sync` page starts. */
  get afterSeq(): number {
    return this.seq;
  }

  /** Pushes held back by the sync in progress. */
  get pending(): number {
    return this.held.size;
  }

  /** A stored push as it arrives on the socket. */
  live(push: E): void {
    if (push.seq <= this.seq) return;
    if (this.syncing || this.skipping) this.held.set(push.seq, push);
    else this.hand(push);
  }

  /** A (re)connection: live pushes wait until `endSync`. Calling it again while a sync is open (a drop mid-sync) keeps what is held. */
  beginSync(): void {
    this.syncing = true;
  }

  /** One `feed:sync` answer: its events, then its `lastSeq` (up to which the server has nothing more for this socket). */
  page(events: readonly E[], lastSeq: number): void {
    for (const push of events) {
      if (push.seq <= this.seq) continue;
      if (this.skipping) this.seq = push.seq;
      else this.hand(push);
    }
    this.seq = Math.max(this.seq, lastSeq);
    for (const seq of this.held.keys()) if (seq <= this.seq) this.held.delete(seq);
  }

  /** The last page is in: hand on what arrived live meanwhile, in seq order. */
  endSync(): void {
    this.syncing = false;
    this.skipping = false;
    const held = [...this.held.values()].sort((a, b) => a.seq - b.seq);
    this.held.clear();
    for (const push of held) if (push.seq > this.seq) this.hand(push);
  }

  private hand(push: E): void {
    // Moved first, so a delivery that throws is not repeated.
    this.seq = push.seq;
    this.deliver(push);
  }
}
