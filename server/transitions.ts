import { AppError } from './errors.js';

/** A workflow: for each status, the statuses that may follow it. Every workflow declares one. */
export type Transitions<S extends string> = { readonly [From in S]: readonly S[] };

/** The one check behind every status change: anything the table does not allow is INVALID_TRANSITION { from, to }. */
export function assertTransition<S extends string>(table: Transitions<S>, what: string, from: S, to: S): void {
  if (!table[from].includes(to)) throw new AppError('INVALID_TRANSITION', `a ${from} ${what} cannot become ${to}`, { from, to });
}
