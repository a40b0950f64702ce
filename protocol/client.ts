import type { Socket } from 'socket.io-client';
import { RpcError, type Ack } from './errors.js';
import type { ClientToServerEvents, EventName, InputOf, ResultOf, ServerToClientEvents } from './index.js';

export type LiliumSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * Calls one event and resolves to its typed result, or rejects with an `RpcError` carrying the code.
 * A call that gets no answer within `timeoutMs` rejects with code `UNAVAILABLE`.
 */
export async function call<E extends EventName>(
  socket: LiliumSocket | Socket,
  event: E,
  input: InputOf<E>,
  { timeoutMs = 10_000 }: { timeoutMs?: number } = {},
): Promise<ResultOf<E>> {
  let ack: Ack<ResultOf<E>>;
  try {
    ack = await (socket as Socket).timeout(timeoutMs).emitWithAck(event, input);
  } catch {
    throw new RpcError({ code: 'UNAVAILABLE', message: `${event}: no answer within ${timeoutMs} ms` });
  }
  if (ack.ok) return ack.data;
  throw new RpcError(ack.error);
}

export { RpcError };
