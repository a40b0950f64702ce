import { Core1764050000000 } from './1764050000000-core.js';

/** In order; each one reversible. */
export const migrations = [Core1764050000000];
