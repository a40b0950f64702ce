import type { Actor } from '../auth/actor.js';
import type { Deps } from '../deps.js';
import { createCtx, type Ctx } from '../rpc/context.js';

/** The context a job's work runs in: no socket, no client address, and as `actor` whoever the job acts for (or nobody). */
export function jobCtx(deps: Deps, jobId: string, actor: Actor | null = null): Ctx {
  const log = deps.log.child({ job: jobId });
  return createCtx({ requestId: `job:${jobId}`, actor, socketId: null, clientAddress: null, deps, log, bindSocket: null });
}
