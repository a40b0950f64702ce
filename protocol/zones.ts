import { z } from 'zod';
import { Empty, Id, L10n } from './common.js';
import { defineEvents } from './spec.js';
import { ADMINS } from './users.js';

export const Zone = z.object({ id: Id, code: z.string(), name: L10n, active: z.boolean() });
export type Zone = z.infer<typeof Zone>;

const Code = z
  .string()
  .trim()
  .regex(/^[A-Z0-9_-]{2,32}$/, '2–32 capital letters, digits, - or _');

export const zoneEvents = defineEvents({
  'zones:list': {
    summary: 'Every zone (a zone-limited admin sees its own).',
    roles: 'signedIn',
    input: Empty,
    result: z.object({ items: z.array(Zone) }),
  },
  'zones:create': {
    summary: 'Add a zone (admins not limited to zones).',
    roles: ADMINS,
    input: z.strictObject({ code: Code, name: L10n }),
    result: Zone,
  },
  'zones:update': {
    summary: 'Rename, recode, or (de)activate a zone (admins not limited to zones).',
    roles: ADMINS,
    input: z.strictObject({ id: Id, code: Code.optional(), name: L10n.optional(), active: z.boolean().optional() }),
    result: Zone,
  },
});
