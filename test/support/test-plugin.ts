import { z } from 'zod';
import type { Registration } from '../../server/rpc/rpc.js';
import { testEvents } from './test-events.js';
import { jobEvents } from './test-jobs.js';

/** Loaded by spawned test servers through TEST_HANDLERS: the instrumented events, the job queue's test events, and a way to push to a room. */
export const registrations: Registration[] = [
  ...testEvents().registrations,
  ...jobEvents,
  {
    event: 'test:push',
    spec: { summary: 'test:push', roles: 'signedIn', input: z.strictObject({ room: z.string(), event: z.string(), data: z.unknown() }), result: z.object({}) },
    handler: (ctx, input: { room: string; event: string; data: unknown }) => {
      (ctx.deps.io.to(input.room) as unknown as { emit(e: string, d: unknown): void }).emit(input.event, input.data);
      return {};
    },
  },
];
