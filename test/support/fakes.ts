import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DeliveryError } from '../../server/notifications/channels/channel.js';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpFake {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** A real HTTP peer on a loopback port: records every request, then lets `reply` answer it (or never answer). */
export async function httpFake(reply: (req: Received, res: ServerResponse) => void): Promise<HttpFake> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      received.push(r);
      reply(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers JSON with a status and headers. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** How a provider's send failed: the DeliveryError's message and retry hints (anything else is thrown on). */
export async function failure(p: Promise<unknown>): Promise<{ message: string; retryable: boolean; retryAfterMs: number | null }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DeliveryError) return { message: e.message, retryable: e.retryable, retryAfterMs: e.retryAfterMs };
    throw e;
  }
  throw new Error('expected the send to fail');
}

/** A Google service-account file in `dir` whose token grants go to the fake FCM at `fcmUrl`; answers its path. */
export function writeServiceAccount(dir: string, fcmUrl: string, account: { projectId: string; clientEmail: string; privateKey: string }): string {
  const path = join(dir, 'service-account.json');
  writeFileSync(
    path,
    JSON.stringify({
      type: 'service_account',
      project_id: account.projectId,
      private_key_id: 'key-1',
      private_key: account.privateKey,
      client_email: account.clientEmail,
      token_uri: `${fcmUrl}/token`,
    }),
  );
  return path;
}
