import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { rejection } from './support/expect.js';
import { startHarness, type Harness } from './support/harness.js';
import { TEST_JOB_RUNS_DDL, jobEvents, sendJob, workQueue } from './support/test-jobs.js';
import { until } from './support/until.js';
import { WebhookPeer } from './support/webhook.js';

// The durable job queue on the embedded database: pg-boss's statements wait for the single session like every
// transaction does, and its jobs live in the database folder, so they outlast the process.
const dir = mkdtempSync(join(tmpdir(), 'lilium-jobs-'));
const options = { database: 'pglite', extraHandlers: jobEvents, env: { PGLITE_DIR: dir, JOBS_POLL_MS: '500' } } as const;
let h: Harness;
let gateway: WebhookPeer;
beforeAll(async () => {
  gateway = await WebhookPeer.start();
  h = await startHarness({ ...options, channels: gateway.channels });
  await h.q(TEST_JOB_RUNS_DDL);
}, 120_000);
afterAll(async () => {
  await h.close();
  await gateway.stop();
  rmSync(dir, { recursive: true, force: true });
});

const runs = (queue: string) =>
  h.q<{ note: string; job_id: string; at: Date }>(
    `SELECT r.note, r.job_id, r.at FROM test_job_runs r JOIN pgboss.job j ON j.id = r.job_id WHERE j.name = $1 ORDER BY r.id`,
    [queue],
  );
const jobsOf = (queue: string) => h.q<{ id: string; state: string }>(`SELECT id, state::text FROM pgboss.job WHERE name = $1 ORDER BY created_on`, [queue]);

test('a job sent in a transaction that rolls back is never written; one that commits runs once', async () => {
  const admin = await h.login('admin@demo.lilium');
  await workQueue(admin.socket, 'test-tx');
  const err = await rejection(sendJob(admin.socket, { queue: 'test-tx', note: 'rolled back', rollback: true }));
  expect(err.code).toBe('CONFLICT');
  const { id } = await sendJob(admin.socket, { queue: 'test-tx', note: 'committed' });
  await until(async () => (await jobsOf('test-tx')).every((j) => j.state === 'completed'), 10_000);
  expect(await jobsOf('test-tx')).toEqual([{ id, state: 'completed' }]);
  expect((await runs('test-tx')).map((r) => [r.note, r.job_id])).toEqual([['committed', id]]);
});

test('a delayed job sent before a restart runs after it, once; a reset sent after it is delivered', async () => {
  const admin = await h.login('admin@demo.lilium');
  const { id, dueAt } = await sendJob(admin.socket, { queue: 'test-later', note: 'later', delayMs: 1_000 });
  await h.close();

  h = await startHarness({ ...options, channels: gateway.channels });
  const again = await h.login('admin@demo.lilium');
  await workQueue(again.socket, 'test-later');
  await until(async () => (await runs('test-later')).length > 0, 15_000);
  const [run, ...more] = await runs('test-later');
  expect(more).toEqual([]);
  expect(run).toMatchObject({ note: 'later', job_id: id });
  expect(new Date(run!.at).getTime()).toBeGreaterThanOrEqual(new Date(dueAt).getTime());

  const anon = await h.connect();
  await call(anon, 'auth:password-reset:request', { login: 'shop3@demo.lilium' });
  await until(
    async () => (await h.q<{ status: string }>(`SELECT status FROM notification_deliveries WHERE address = 'shop3@demo.lilium'`))[0]?.status === 'SENT',
    10_000,
  );
  expect(gateway.to('shop3@demo.lilium').map((r) => [r.channel, r.message.kind])).toEqual([['email', 'account.password_reset']]);
}, 120_000);
