import { describe, expect, test } from 'vitest';
import { AppError } from '../server/errors.js';
import { WorkGate, type Pass } from '../server/auth/work-gate.js';

/** Work that finishes when the test says so, recording when it started. */
function job(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { work: () => (log.push(name), done.then(() => name)), finish };
}

const flush = () => new Promise((r) => setImmediate(r));

function refusalOf(f: () => unknown): AppError {
  try {
    f();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('the hashing gate', () => {
  test('runs at most `concurrency` at once and starts waiting work by the key that has used the gate least', async () => {
    const gate = new WorkGate({ concurrency: 1, perKey: 10, queue: 10 });
    const started: string[] = [];
    const jobs = Object.fromEntries(['a1', 'a2', 'a3', 'b1', 'c1'].map((n) => [n, job(started, n)]));
    const runs = ['a1', 'a2', 'a3', 'b1', 'c1'].map((n) => gate.admit(n.slice(0, 1)).run(jobs[n]!.work));
    await flush();
    expect(started).toEqual(['a1']);
    for (const n of ['a1', 'b1', 'c1', 'a2', 'a3']) {
      jobs[n]!.finish();
      await flush();
    }
    // b and c, who had used nothing, go before a's second and third.
    expect(started).toEqual(['a1', 'b1', 'c1', 'a2', 'a3']);
    expect(await Promise.all(runs)).toEqual(['a1', 'a2', 'a3', 'b1', 'c1']);
  });

  test('a key past its places is refused with RATE_LIMITED and retryInMs; a disposed pass gives its place back', () => {
    const gate = new WorkGate({ concurrency: 1, perKey: 2, queue: 10 });
    gate.admit('a');
    const second = gate.admit('a');
    const refused = refusalOf(() => gate.admit('a'));
    // Nothing has run yet, so a check is taken to last 100 ms: two places ahead on one slot, then its own.
    expect([refused.code, refused.details]).toEqual(['RATE_LIMITED', { retryInMs: 300 }]);
    expect(() => gate.admit('b')).not.toThrow();
    second[Symbol.dispose]();
    expect(() => gate.admit('a')).not.toThrow();
  });

  test('when full, a key holding nothing takes the newest unstarted place of the key holding the most', async () => {
    const gate = new WorkGate({ concurrency: 1, perKey: 10, queue: 3 });
    const started: string[] = [];
    const first = job(started, 'a1');
    const running = gate.admit('a').run(first.work);
    const waiting = gate.admit('a').run(job(started, 'a2').work);
    const held: Pass = gate.admit('a');
    gate.admit('b');
    // The gate stays full from here (three places besides the running one): each refusal names
    // four checks of the assumed 100 ms.
    expect(refusalOf(() => gate.admit('b'))).toMatchObject({ code: 'RATE_LIMITED', details: { retryInMs: 400 } });
    gate.admit('c');
    // c took a's newest place (held, not yet running): it is refused when it tries to run.
    await expect(held.run(async () => 'never')).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { retryInMs: 400 } });
    gate.admit('d');
    await expect(waiting).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { retryInMs: 400 } });
    // Only the running one is left to a: nothing more to take from it, and b and c hold one each.
    expect(refusalOf(() => gate.admit('e'))).toMatchObject({ code: 'RATE_LIMITED', details: { retryInMs: 400 } });
    first.finish();
    expect(await running).toBe('a1');
    expect(started).toEqual(['a1']);
  });
});
