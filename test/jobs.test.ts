import { afterAll, beforeAll, expect, onTestFinished, test } from 'vitest';
import { call } from '../protocol/client.js';
import { PgBossJobs } from '../server/jobs/jobs.js';
import { Metrics } from '../server/metrics.js';
import { rejection } from './support/expect.js';
import { statementsOf } from './support/statements.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { TEST_JOB_RUNS_DDL, jobEvents, sendJob, workQueue } from './support/test-jobs.js';
import type { Spawned } from './support/spawn.js';
import { until } from './support/until.js';

// The durable job queue on PostgreSQL, across processes (the embedded database: test/jobs-pglite.test.ts).
let h: Harness;
let admin: Session;
beforeAll(async () => {
  h = await startHarness({ extraHandlers: jobEvents, env: { JOBS_POLL_MS: '500', JOBS_MAINTENANCE_S: '1' } });
  await h.q(TEST_JOB_RUNS_DDL);
  admin = await h.login('admin@demo.lilium');
});
afterAll(() => h.close());

const runs = (queue: string) =>
  h.q<{ note: string; job_id: string; node: string; at: Date }>(
    `SELECT r.note, r.job_id, r.node, r.at FROM test_job_runs r JOIN pgboss.job j ON j.id = r.job_id WHERE j.name = $1 ORDER BY r.id`,
    [queue],
  );
/** A spawned node works the same queues, deliveries included, and logs apart from this harness: each test stops its own when it ends. */
const stop = async (node: { process: Spawned }) => {
  node.process.child.kill('SIGTERM');
  await node.process.exited;
};
const jobsOf = (queue: string) => h.q<{ id: string; state: string }>(`SELECT id, state::text FROM pgboss.job WHERE name = $1 ORDER BY created_on`, [queue]);

test('a job sent in a transaction that rolls back is never written; one that commits runs once', async () => {
  await workQueue(admin.socket, 'test-tx');
  const err = await rejection(sendJob(admin.socket, { queue: 'test-tx', note: 'rolled back', rollback: true }));
  expect(err.code).toBe('CONFLICT');
  const rolledBack = /job (\S+)$/.exec(err.message)?.[1];
  expect(rolledBack).toMatch(/^[0-9a-f-]{36}$/);
  const { id } = await sendJob(admin.socket, { queue: 'test-tx', note: 'committed' });
  await until(async () => (await jobsOf('test-tx')).every((j) => j.state === 'completed'), 10_000);
  // Nothing is left to run: the committed job completed, the rolled-back one does not exist.
  expect(await jobsOf('test-tx')).toEqual([{ id, state: 'completed' }]);
  expect((await runs('test-tx')).map((r) => [r.note, r.job_id])).toEqual([['committed', id]]);
});

test('the queue prepares its fetch and its completion on its own connections, which plan them generically', async () => {
  await workQueue(admin.socket, 'test-prepared');
  const statements = await statementsOf(async () => {
    for (const note of ['one', 'two', 'three']) {
      const { id } = await sendJob(admin.socket, { queue: 'test-prepared', note });
      await until(async () => (await jobsOf('test-prepared')).some((j) => j.id === id && j.state === 'completed'), 10_000);
    }
  });
  const ofQueue = (pattern: RegExp) => statements.filter((s) => pattern.test(s.sql) && s.params[0] === 'test-prepared');
  const [fetches, completions] = [ofQueue(/FOR UPDATE SKIP LOCKED/), ofQueue(/SET completed_on = now\(\)/)];
  expect(fetches.length).toBeGreaterThanOrEqual(3);
  expect(completions).toHaveLength(3);
  for (const s of [...fetches, ...completions]) expect(s.name).toMatch(/^boss_[0-9a-f]{20}$/);
  expect(new Set(fetches.map((s) => s.name)).size).toBe(1);
  for (const client of new Set(fetches.map((s) => s.client))) {
    expect((await client.query('SHOW plan_cache_mode')).rows).toEqual([{ plan_cache_mode: 'force_generic_plan' }]);
  }
});

test('a job that finishes after its node stopped waiting for it ends quietly: its completion finds the queue closed', async () => {
  const { config, db, log } = h.app.deps;
  const jobs = new PgBossJobs(config.jobs, config.database, db, log, new Metrics());
  await jobs.start();
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  onTestFinished(() => void process.off('unhandledRejection', onUnhandled));
  let started!: () => void;
  let finish!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  await jobs.work('test-outlived', () => {
    started();
    return new Promise<void>((resolve) => (finish = resolve));
  });
  await jobs.send(null, 'test-outlived', {});
  await running;
  await jobs.stop(); // waits a few seconds for the running job, then closes
  finish();
  await new Promise((resolve) => setTimeout(resolve, 200)); // the completion pg-boss then sends
  expect(unhandled).toEqual([]);
});

test('on a queue of policy short, a singletonKey lets one job per key wait at a time', async () => {
  const { jobs } = h.app.deps;
  await jobs.define('test-short', { policy: 'short' });
  const later = new Date(Date.now() + 60_000);
  const first = await jobs.send(null, 'test-short', { note: 'a' }, { singletonKey: 'order-1', startAfter: later });
  expect(first).toMatch(/^[0-9a-f-]{36}$/);
  expect(await jobs.send(null, 'test-short', { note: 'again' }, { singletonKey: 'order-1', startAfter: later })).toBeNull();
  expect(await jobs.send(null, 'test-short', { note: 'b' }, { singletonKey: 'order-2', startAfter: later })).toMatch(/^[0-9a-f-]{36}$/);
  await expect(jobs.send(null, 'test-undefined', { note: 'x' })).rejects.toThrow('job queue test-undefined is not defined on this node');
});

test('with two nodes working one queue, each committed job runs once', async () => {
  const other = await h.spawnNode();
  onTestFinished(() => stop(other));
  const remote = await h.login('admin@demo.lilium', { url: other.url });
  await workQueue(admin.socket, 'test-shared');
  await workQueue(remote.socket, 'test-shared');
  const notes = Array.from({ length: 30 }, (_, i) => `job ${i}`);
  // Half sent on each node, so each node's workers are woken for its own and compete for the other's.
  await Promise.all(notes.map((note, i) => sendJob(i % 2 ? remote.socket : admin.socket, { queue: 'test-shared', note })));
  await until(async () => (await jobsOf('test-shared')).filter((j) => j.state === 'completed').length === notes.length, 20_000);
  const done = await runs('test-shared');
  expect(done.map((r) => r.note).sort()).toEqual([...notes].sort());
  expect(new Set(done.map((r) => r.job_id)).size).toBe(notes.length);
}, 60_000);

test('a delayed job survives the death of the node that sent it and runs, once, on a node started after', async () => {
  const first = await h.spawnNode();
  const sender = await h.login('admin@demo.lilium', { url: first.url });
  const { id, dueAt } = await sendJob(sender.socket, { queue: 'test-later', note: 'later', delayMs: 1_500 });
  first.process.child.kill('SIGKILL');
  await first.process.exited;
  expect(await jobsOf('test-later')).toEqual([{ id, state: 'created' }]);

  const restarted = await h.spawnNode();
  onTestFinished(() => stop(restarted));
  const worker = await h.login('admin@demo.lilium', { url: restarted.url });
  await workQueue(worker.socket, 'test-later');
  await until(async () => (await runs('test-later')).length > 0, 15_000);
  const [run, ...more] = await runs('test-later');
  expect(more).toEqual([]);
  expect(run).toMatchObject({ note: 'later', job_id: id, node: String(restarted.process.child.pid) });
  // Never before it was due (the database's clock decides; both share this machine's).
  expect(new Date(run!.at).getTime()).toBeGreaterThanOrEqual(new Date(dueAt).getTime());
}, 60_000);

test('with no provider configured, a message is logged as it would be sent: its id, kind, channel and masked address, never its link', async () => {
  await call(await h.connect(), 'auth:password-reset:request', { login: 'shop1@demo.lilium' });
  const [d] = (await h.q<{ id: string; user_id: string }>(`SELECT id, user_id FROM notification_deliveries WHERE address = 'shop1@demo.lilium'`)) as [
    { id: string; user_id: string },
  ];
  const logged = () => h.logs.find((l) => l.deliveryId === d.id);
  await until(async () => logged() !== undefined, 10_000);
  expect(logged()).toMatchObject({
    msg: 'email not configured: account.password_reset not sent',
    channel: 'email',
    kind: 'account.password_reset',
    to: 's***@demo.lilium',
    userId: d.user_id,
  });
  expect(JSON.stringify(h.logs)).not.toContain('reset-password');
});
