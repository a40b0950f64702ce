import { z } from 'zod';
import { sql } from '../../db/sql.js';
import { call, type LiliumSocket } from '../../protocol/client.js';
import { AppError } from '../../server/errors.js';
import type { Registration } from '../../server/rpc/rpc.js';

/** Where the test workers below record each run: which job, on which node (process), when. */
export const TEST_JOB_RUNS_DDL =
  'CREATE TABLE IF NOT EXISTS test_job_runs (id serial PRIMARY KEY, note text NOT NULL, job_id uuid NOT NULL, node text NOT NULL, at timestamptz NOT NULL DEFAULT now())';

const QueueName = z.string().regex(/^test-[a-z-]+$/);

/** Test-only events that drive the job queue of the node they are called on (in this process or a spawned one). */
export const jobEvents: Registration[] = [
  {
    event: 'test:job-send',
    spec: {
      summary: 'test:job-send',
      roles: 'signedIn',
      input: z.strictObject({ queue: QueueName, note: z.string(), delayMs: z.int().min(0).default(0), rollback: z.boolean().default(false) }),
      result: z.object({ id: z.string().nullable(), dueAt: z.string() }),
    },
    handler: async (ctx, input: { queue: string; note: string; delayMs: number; rollback: boolean }) => {
      await ctx.deps.jobs.define(input.queue);
      const dueAt = new Date(Date.now() + input.delayMs);
      return ctx.tx(async (ctx) => {
        const id = await ctx.deps.jobs.send(ctx, input.queue, { note: input.note }, input.delayMs ? { startAfter: dueAt } : {});
        // The job's id rides in the message: a test event's error carries no details the contract does not know.
        if (input.rollback) throw new AppError('CONFLICT', `rolled back on purpose: job ${id}`);
        return { id, dueAt: dueAt.toISOString() };
      });
    },
  },
  {
    event: 'test:job-work',
    spec: { summary: 'test:job-work', roles: 'signedIn', input: z.strictObject({ queue: QueueName }), result: z.object({}) },
    handler: async (ctx, { queue }: { queue: string }) => {
      await ctx.deps.jobs.work<{ note: string }>(queue, async ({ note }, job) => {
        await ctx.deps.db.query(sql`INSERT INTO test_job_runs (note, job_id, node) VALUES (${note}, ${job.id}, ${String(process.pid)})`);
      });
      return {};
    },
  },
];

export const sendJob = (socket: LiliumSocket, input: { queue: string; note: string; delayMs?: number; rollback?: boolean }) =>
  call(socket, 'test:job-send' as 'me:get', input as never) as unknown as Promise<{ id: string | null; dueAt: string }>;
export const workQueue = (socket: LiliumSocket, queue: string) => call(socket, 'test:job-work' as 'me:get', { queue } as never);
