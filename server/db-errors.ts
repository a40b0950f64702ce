import { AppError } from './errors.js';

const codeOf = (err: unknown) => (err && typeof err === 'object' && 'code' in err ? (err as { code: unknown }).code : undefined);

/** Runs a write and turns a unique or check violation into the coded error clients can act on. */
export async function mapConstraintErrors<T>(work: () => Promise<T>, conflictMessage: string): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (codeOf(err) === '23505') throw new AppError('CONFLICT', conflictMessage);
    if (codeOf(err) === '23514')
      throw new AppError('BAD_REQUEST', 'the change breaks a rule of the data', { constraint: (err as { constraint?: string }).constraint });
    throw err;
  }
}
