import { z } from 'zod';
import { Empty, Id, L10n } from './common.js';
import { defineEvents } from './spec.js';

export const Zone = z.object({ id: Id, code: z.string(), name: L10n, active: z.boolean() });
export type Zone = z.infer<typeof Zone>;

export const zoneEvents = defineEvents({
  'zones:list': {
    summary: 'Every zone.',
    roles: 'signedIn',
    input: Empty,
    result: z.object({ items: z.array(Zone) }),
  },
});
