import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { CSV_COLUMNS } from '../server/catalog/import.service.js';
import { dbUrl } from './support/env.js';
import { startHarness, type Harness } from './support/harness.js';
import { upload } from './support/images.js';
import { until } from './support/until.js';

// An import whose node dies is taken up by the queue after IMPORT_TIMEOUT_S: resumed after its last batch, or,
// its tries spent, undone and FAILED; never left RUNNING. Only spawned nodes work imports here, so the one
// killed is known: the harness's own node is closed at once.
let h: Harness;
let db: pg.Client;
beforeAll(async () => {
  h = await startHarness({ env: { IMPORT_TIMEOUT_S: '3', JOBS_MAINTENANCE_S: '1', JOBS_POLL_MS: '500' } });
  await h.app.close();
  db = new pg.Client({ connectionString: dbUrl(h.dbName!) });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await h.close();
});

const q = async <T>(text: string, params: unknown[] = []) => (await db.query(text, params)).rows as T[];
const ROWS = 10_000;
const file = (tag: string) =>
  [
    CSV_COLUMNS.join(','),
    ...Array.from({ length: ROWS }, (_, i) => `${tag}-${i},سكر ${i},Sugar ${i},,,sugar,PACK,6,${100 + i},,1,${i % 50},2,false,ACTIVE,`),
  ].join('\n');

/** Starts an import on a spawned node and kills that node, without warning, once a few batches are written. */
async function importAndKill(tag: string): Promise<string> {
  const node = await h.spawnNode();
  const staff = await h.login('vendor1@demo.lilium', { url: node.url });
  const up = await upload(node.url, staff.accessToken, Buffer.from(file(tag)), { kind: 'csv', filename: 'p.csv', type: 'text/csv' });
  const { jobId } = await call(staff.socket, 'products:import', { uploadId: up.body.id, mode: 'all-or-nothing' });
  await until(async () => (await q<{ n: number }>('SELECT count(*)::int AS n FROM import_batches WHERE import_id = $1', [jobId]))[0]!.n >= 2, 30_000);
  node.process.child.kill('SIGKILL');
  await node.process.exited;
  expect((await q<{ status: string }>('SELECT status FROM import_jobs WHERE id = $1', [jobId]))[0]!.status).toBe('RUNNING');
  return jobId;
}

const ended = async (jobId: string) => {
  await until(async () => (await q<{ status: string }>('SELECT status FROM import_jobs WHERE id = $1', [jobId]))[0]!.status !== 'RUNNING', 60_000);
  return (
    await q<{ status: string; created: number; updated: number; errors: unknown[] }>('SELECT status, created, updated, errors FROM import_jobs WHERE id = $1', [
      jobId,
    ])
  )[0]!;
};
const imported = async (tag: string) =>
  (
    await q<{ products: number; history: number }>(
      `SELECT count(*)::int AS products, (SELECT count(*)::int FROM stock_history sh JOIN products s ON s.id = sh.product_id WHERE s.sku LIKE $1) AS history
         FROM products WHERE sku LIKE $1`,
      [`${tag}-%`],
    )
  )[0]!;
const importJob = async (jobId: string) =>
  (
    await q<{ state: string; retry_count: number }>(`SELECT state::text, retry_count FROM pgboss.job WHERE name = 'import' AND data->>'importId' = $1`, [jobId])
  )[0];

test('an import whose node was killed is resumed on a node started after, after its last batch, and lands whole and once', async () => {
  const tag = `R${randomUUID().slice(0, 6)}`;
  const jobId = await importAndKill(tag);
  const restarted = await h.spawnNode();
  expect(await ended(jobId)).toEqual({ status: 'DONE', created: ROWS, updated: 0, errors: [] });
  // Every row once, every stock move once (a fifth of the rows start at zero stock and move none).
  expect(await imported(tag)).toEqual({ products: ROWS, history: ROWS - ROWS / 50 });
  expect(await q('SELECT 1 FROM import_batches WHERE import_id = $1', [jobId])).toEqual([]);
  const job = await importJob(jobId);
  expect(job!.state).toBe('completed');
  expect(job!.retry_count).toBeGreaterThanOrEqual(1);
  // The next test's import must run on the node it kills.
  restarted.process.child.kill('SIGTERM');
  await restarted.process.exited;
}, 120_000);

test('an import killed with its tries spent is undone and FAILED by its dead letter', async () => {
  const tag = `F${randomUUID().slice(0, 6)}`;
  const jobId = await importAndKill(tag);
  // As if every try had died the same way: the next expiry fails it for good.
  await db.query(`UPDATE pgboss.job SET retry_count = retry_limit WHERE name = 'import' AND data->>'importId' = $1`, [jobId]);
  await h.spawnNode();
  expect(await ended(jobId)).toEqual({
    status: 'FAILED',
    created: 0,
    updated: 0,
    errors: [{ row: 0, field: null, message: 'the import was interrupted too often; nothing was imported' }],
  });
  expect(await imported(tag)).toEqual({ products: 0, history: 0 });
  expect(await q('SELECT 1 FROM import_batches WHERE import_id = $1', [jobId])).toEqual([]);
  expect((await importJob(jobId))!.state).toBe('failed');
}, 120_000);
