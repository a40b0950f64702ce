import { z } from 'zod';
import { sql } from '../../db/sql.js';
import { IdempotencyKey } from '../../protocol/common.js';
import type { EventSpec } from '../../protocol/spec.js';
import { AppError } from '../../server/errors.js';
import type { Ctx } from '../../server/rpc/context.js';
import type { Registration } from '../../server/rpc/rpc.js';

/** Instrumented events registered only in tests, to exercise the RPC layer itself. */
export function testEvents() {
  const probe = { runs: 0, slowStarted: 0, release: () => undefined as void };
  let gate = new Promise<void>((resolve) => (probe.release = resolve));
  const reg = (event: string, spec: Omit<EventSpec, 'summary'>, handler: (ctx: Ctx, input: never) => unknown): Registration => ({
    event,
    spec: { summary: event, ...spec },
    handler,
  });
  const onceInput = z.strictObject({ idempotencyKey: IdempotencyKey, note: z.string() });
  const registrations: Registration[] = [
    reg(
      'test:echo',
      { roles: 'signedIn', input: z.strictObject({ text: z.string().max(100_000) }), result: z.object({ text: z.string() }) },
      (_ctx, input: { text: string }) => input,
    ),
    reg('test:admins', { roles: ['ADMIN', 'SUPER_ADMIN'], input: z.strictObject({}), result: z.object({}) }, () => ({})),
    reg('test:boom', { roles: 'anyone', input: z.strictObject({}), result: z.object({}) }, () => {
      throw new Error('database password is hunter2');
    }),
    reg('test:bad-result', { roles: 'anyone', input: z.strictObject({}), result: z.object({ n: z.int() }) }, () => ({ n: 'one' })),
    reg(
      'test:once',
      { roles: 'signedIn', input: onceInput, result: z.object({ run: z.int(), note: z.string() }) },
      async (ctx, input: z.infer<typeof onceInput>) => {
        const run = ++probe.runs;
        await ctx.tx((ctx) => ctx.query(sql`INSERT INTO test_effects (note) VALUES (${input.note})`));
        await new Promise((resolve) => setTimeout(resolve, 20));
        return { run, note: input.note };
      },
    ),
    reg('test:once-fails', { roles: 'signedIn', input: onceInput, result: z.object({}) }, async (ctx, input: z.infer<typeof onceInput>) => {
      probe.runs++;
      await ctx.tx((ctx) => ctx.query(sql`INSERT INTO test_effects (note) VALUES (${input.note})`));
      throw new AppError('CONFLICT', 'refused after writing');
    }),
    reg('test:slow', { roles: 'signedIn', input: z.strictObject({}), result: z.object({ done: z.literal(true) }) }, async () => {
      probe.slowStarted++;
      await gate;
      return { done: true as const };
    }),
  ];
  return {
    registrations,
    probe,
    resetGate() {
      gate = new Promise<void>((resolve) => (probe.release = resolve));
    },
  };
}

export const TEST_EFFECTS_DDL = 'CREATE TABLE IF NOT EXISTS test_effects (id serial PRIMARY KEY, note text NOT NULL)';
