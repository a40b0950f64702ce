import { z } from 'zod';
import { IsoTime } from './common.js';
import { defineEvents } from './spec.js';

/** Every stored push travels in this envelope. */
export const Envelope = z.object({ seq: z.int().min(1), event: z.string(), at: IsoTime, data: z.unknown() });

export const feedEvents = defineEvents({
  'feed:sync': {
    summary:
      'The stored pushes for this socket’s rooms after `afterSeq`, in seq order, each once. Seqs grow for every recipient but skip events of other rooms; call again with `lastSeq` while `hasMore`. Kept 7 days.',
    roles: 'signedIn',
    input: z.strictObject({ afterSeq: z.int().min(0), limit: z.int().min(1).max(1000).default(500) }),
    result: z.object({ events: z.array(Envelope), lastSeq: z.int().min(0), hasMore: z.boolean() }),
  },
});
