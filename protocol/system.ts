import { z } from 'zod';
import { WireError } from './errors.js';
import { definePushes } from './spec.js';

export const systemPushes = definePushes({
  'rpc:error': {
    summary: 'A call that could not be answered through its ack: an unknown event, or an event sent without an ack callback.',
    to: 'the calling socket',
    data: z.object({ event: z.string(), requestId: z.string(), error: WireError }),
    stored: false,
  },
  'server:shutdown': {
    summary: 'This node is draining: calls in flight are still answered, then the socket is closed. Reconnect (to any node) after the delay.',
    to: 'every socket on the draining node',
    data: z.object({ reconnectInMs: z.int().min(0) }),
    stored: false,
  },
});
