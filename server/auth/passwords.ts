import bcrypt from 'bcrypt';
import type { Deps } from '../deps.js';
import type { Ctx } from '../rpc/context.js';
import { WorkGate, type Pass } from './work-gate.js';

// Every bcrypt hash and compare a client can cause goes through this module, and so through one gate per server.
const gates = new WeakMap<Deps, WorkGate>();

function gateOf(deps: Deps): WorkGate {
  let gate = gates.get(deps);
  if (!gate) gates.set(deps, (gate = new WorkGate(deps.config.hashing)));
  return gate;
}

/** A place in this server's hashing for the caller's client address; RATE_LIMITED when there is none. */
export function admitHashing(ctx: Ctx): Pass {
  return gateOf(ctx.deps).admit(ctx.clientAddress ?? 'unknown');
}

export async function hashPassword(ctx: Ctx, password: string): Promise<string> {
  using pass = admitHashing(ctx);
  return await pass.run(() => bcrypt.hash(password, ctx.deps.config.bcryptCost));
}

/** Compared against when there is no account, so both answers take as long. */
const decoys = new Map<number, Promise<string>>();
function decoy(cost: number): Promise<string> {
  let hash = decoys.get(cost);
  if (!hash) decoys.set(cost, (hash = bcrypt.hash('lilium-decoy-password', cost)));
  return hash;
}

/** Compares on a pass already admitted; against a decoy when `hash` is null. */
export function passwordMatches(ctx: Ctx, pass: Pass, password: string, hash: string | null): Promise<boolean> {
  return pass.run(async () => bcrypt.compare(password, hash ?? (await decoy(ctx.deps.config.bcryptCost))));
}
