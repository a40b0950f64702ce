import type { z } from 'zod';
import type { Role } from './common.js';

/** `anyone`: also unauthenticated sockets; `signedIn`: any role; otherwise exactly these roles. */
export type Access = 'anyone' | 'signedIn' | readonly Role[];

export interface EventSpec {
  summary: string;
  roles: Access;
  input: z.ZodObject;
  result: z.ZodType;
}

export interface PushSpec {
  summary: string;
  /** Which rooms or sockets receive it, for the documentation. */
  to: string;
  data: z.ZodType;
  /**
   * A stored push reports a committed change: it travels in the `{ seq, event, at, data }`
   * envelope and can be fetched again with `feed:sync`. Others are sent as bare `data`.
   */
  stored: boolean;
}

export const defineEvents = <const T extends Record<string, EventSpec>>(events: T): T => events;
export const definePushes = <const T extends Record<string, PushSpec>>(pushes: T): T => pushes;

export function isIdempotent(spec: EventSpec): boolean {
  return 'idempotencyKey' in spec.input.shape;
}

export function allows(access: Access, role: Role | undefined): boolean {
  if (access === 'anyone') return true;
  if (role === undefined) return false;
  return access === 'signedIn' || access.includes(role);
}
