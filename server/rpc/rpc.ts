import type { EventName, ParsedInputOf, ResultOf } from '../../protocol/index.js';
import { events } from '../../protocol/index.js';
import type { EventSpec } from '../../protocol/spec.js';
import type { Ctx } from './context.js';

export interface Registration {
  event: string;
  spec: EventSpec;
  handler: (ctx: Ctx, input: never) => unknown;
}

export type Handler<E extends EventName> = (ctx: Ctx, input: ParsedInputOf<E>) => Promise<ResultOf<E>> | ResultOf<E>;

/** Registers the handler of one protocol event; its schemas and roles come from `protocol/`. */
export function rpc<E extends EventName>(event: E, handler: Handler<E>): Registration {
  return { event, spec: events[event], handler };
}
