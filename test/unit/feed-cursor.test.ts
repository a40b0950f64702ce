import { describe, expect, test } from 'vitest';
import { FeedCursor } from '../../protocol/feed-cursor.js';
import { rng } from '../support/rng.js';

// The ordering and de-duplication of stored pushes, without a server.

type Push = { seq: number; from: 'live' | 'sync' };
const live = (seq: number): Push => ({ seq, from: 'live' });
const synced = (seq: number): Push => ({ seq, from: 'sync' });

function cursor(lastSeq: number | undefined) {
  const got: Push[] = [];
  const c = new FeedCursor<Push>(lastSeq, (p) => got.push(p));
  return { c, got, seqs: () => got.map((p) => p.seq) };
}

describe('FeedCursor', () => {
  test('live pushes pass in order once; repeats and older seqs are dropped', () => {
    const { c, got } = cursor(10);
    c.beginSync();
    c.page([], 10);
    c.endSync();
    for (const seq of [11, 14, 14, 12, 20]) c.live(live(seq));
    expect(got).toEqual([live(11), live(14), live(20)]);
    expect(c.lastSeq).toBe(20);
  });

  test('during a sync live pushes wait; the pages come first, then what they did not cover, in seq order', () => {
    const { c, got } = cursor(10);
    c.beginSync();
    c.live(live(16));
    c.live(live(13));
    c.live(live(19));
    expect(got).toEqual([]);
    expect(c.pending).toBe(3);
    c.page([synced(11), synced(13)], 13);
    expect(c.afterSeq).toBe(13);
    c.page([synced(15), synced(16)], 17);
    expect(got.map((p) => p.seq)).toEqual([11, 13, 15, 16]);
    // 13 and 16 came in pages too, and the second page covered up to 17: only 19 is left.
    expect(c.pending).toBe(1);
    c.live(live(21));
    c.endSync();
    expect(got).toEqual([synced(11), synced(13), synced(15), synced(16), live(19), live(21)]);
    expect(c.lastSeq).toBe(21);
    expect(c.pending).toBe(0);
  });

  test('a page that reports nothing more up to a top moves the cursor past the gap', () => {
    const { c, seqs } = cursor(5);
    c.beginSync();
    c.live(live(8));
    c.page([], 40);
    c.endSync();
    expect(seqs()).toEqual([]);
    expect(c.lastSeq).toBe(40);
    c.live(live(41));
    expect(seqs()).toEqual([41]);
  });

  test('started from now: the first sync skips the backlog, pushes that arrived during it still count', () => {
    const { c, got } = cursor(undefined);
    expect(c.lastSeq).toBeUndefined();
    c.beginSync();
    c.live(live(7));
    c.live(live(12));
    c.page([synced(3), synced(7)], 7);
    expect(c.afterSeq).toBe(7);
    c.page([synced(9)], 10);
    expect(c.lastSeq).toBeUndefined();
    c.endSync();
    expect(got).toEqual([live(12)]);
    expect(c.lastSeq).toBe(12);
    // Later syncs hand their pages on.
    c.beginSync();
    c.page([synced(15)], 15);
    c.endSync();
    expect(got).toEqual([live(12), synced(15)]);
  });

  test('a drop in the middle of a sync: the next one carries on from the last page, keeping what was held', () => {
    const { c, seqs } = cursor(0);
    c.beginSync();
    c.page([synced(1), synced(2)], 2);
    c.live(live(6));
    // Connection lost before the next page; a new connection syncs again.
    c.beginSync();
    expect(c.afterSeq).toBe(2);
    c.page([synced(4)], 4);
    c.endSync();
    expect(seqs()).toEqual([1, 2, 4, 6]);
  });

  // A model of the server and one connection: the server numbers pushes (some for other rooms),
  // publishes each to the client while it is connected (in order, arriving late or never when the
  // connection drops), and answers feed:sync pages from a snapshot taken when the page is asked for
  // or as late as when it is answered. Whatever the interleaving, the client gets every push of its
  // rooms after its start exactly once, in seq order.
  test.each([1, 2, 3, 4, 5, 6, 7, 8])('random drops, late pages and late pushes (seed %i): every push once, in order', (seed) => {
    type Answer = { events: number[]; lastSeq: number; hasMore: boolean };
    const r = rng(seed);
    const start = r.int(3);
    const ours: number[] = [];
    let top = 0;
    const { c, seqs } = cursor(start);
    let connected = false;
    let inTransit: number[] = [];
    let syncDone = false;
    // A page asked for and not answered yet; its snapshot is taken now or when it is answered.
    let page: { answer: Answer | null } | null = null;
    const snapshot = (): Answer => {
      const limit = 1 + r.int(4);
      const found = ours.filter((s) => s > c.afterSeq && s <= top);
      const hasMore = found.length > limit;
      const events = found.slice(0, limit);
      return { events, lastSeq: hasMore ? events[events.length - 1]! : Math.max(top, c.afterSeq), hasMore };
    };
    const ask = () => (page = { answer: r.int(2) ? snapshot() : null });
    const connect = () => {
      connected = true;
      syncDone = false;
      c.beginSync();
      ask();
    };
    const answer = () => {
      const { events, lastSeq, hasMore } = page!.answer ?? snapshot();
      page = null;
      c.page(events.map(synced), lastSeq);
      if (hasMore) ask();
      else {
        c.endSync();
        syncDone = true;
      }
    };
    connect();
    for (let step = 0; step < 400; step++) {
      const roll = r.int(10);
      if (roll < 3) {
        top++;
        if (r.int(3) > 0) {
          ours.push(top);
          if (connected) inTransit.push(top);
        }
      } else if (roll < 6 && inTransit.length) c.live(live(inTransit.shift()!));
      else if (roll < 8 && page) answer();
      else if (roll === 8 && connected && r.int(4) === 0) {
        connected = false;
        inTransit = [];
        page = null;
      } else if (!connected) connect();
    }
    // Settle: reconnect if needed and let everything arrive.
    if (!connected) connect();
    while (page || inTransit.length || !syncDone) {
      if (page) answer();
      else c.live(live(inTransit.shift()!));
    }
    expect(seqs()).toEqual(ours.filter((s) => s > start));
    expect(c.lastSeq).toBeGreaterThanOrEqual(ours.at(-1) ?? start);
    expect(c.pending).toBe(0);
  });
});
