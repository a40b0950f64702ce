import type { IncomingHttpHeaders } from 'node:http';
import type { IoSocket } from './deps.js';

/**
 * The client's address. Behind a trusted proxy every connection comes from the proxy, so the
 * client's is the hop the proxy appended last to X-Forwarded-For (earlier hops are the client's word).
 */
export function clientAddressOf(headers: IncomingHttpHeaders, remote: string | undefined, trustProxy: boolean): string | null {
  if (trustProxy) {
    const forwarded = headers['x-forwarded-for'];
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded)?.split(',').pop()?.trim();
    if (last) return last;
  }
  return remote || null;
}

export const socketAddress = (socket: IoSocket, trustProxy: boolean): string | null =>
  clientAddressOf(socket.handshake.headers, socket.handshake.address, trustProxy);
