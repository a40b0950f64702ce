import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NotificationChannel } from '../../protocol/notifications.js';
import { DeliveryError, type ChannelProvider, type OutboundMessage } from '../../server/notifications/channels/channel.js';

export interface Received {
  channel: NotificationChannel;
  target: { userId: string | null; address: string | null };
  message: OutboundMessage;
  /** When the peer received it (ms since epoch). */
  at: number;
}

export interface Answer {
  status: number;
  retryAfterS?: number;
}

/**
 * A messaging gateway standing in for the outside services: a real HTTP server on a free local port that records
 * every message posted to it and answers, per recipient, the statuses a test scripts (200 once the script is used
 * up). `channels` are providers that post to it and read its answers as a gateway's are read: 5xx and timeouts
 * retryable, 429 with its Retry-After, other 4xx not.
 */
export class WebhookPeer {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, Answer[]>();
  private server: Server | null = null;
  private url = '';

  static async start(): Promise<WebhookPeer> {
    const peer = new WebhookPeer();
    peer.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const got = JSON.parse(body) as Omit<Received, 'at'>;
        peer.received.push({ ...got, at: Date.now() });
        const answer = peer.scripts.get(got.target.address ?? got.target.userId ?? '')?.shift() ?? { status: 200 };
        res.writeHead(answer.status, answer.retryAfterS === undefined ? {} : { 'retry-after': String(answer.retryAfterS) });
        res.end(answer.status < 300 ? '{"ok":true}' : `{"error":"status ${answer.status}"}`);
      });
    });
    await new Promise<void>((resolve) => peer.server!.listen(0, '127.0.0.1', resolve));
    peer.url = `http://127.0.0.1:${(peer.server.address() as AddressInfo).port}/messages`;
    return peer;
  }

  /** The next answers to messages for this address (or user id, for push). */
  script(recipient: string, ...answers: Answer[]): void {
    this.scripts.set(recipient, answers);
  }

  to(recipient: string): Received[] {
    return this.received.filter((r) => (r.target.address ?? r.target.userId) === recipient);
  }

  provider(channel: NotificationChannel): ChannelProvider {
    return {
      channel,
      send: async (target, message) => {
        let res: Response;
        try {
          res = await fetch(this.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ channel, target, message }),
            signal: AbortSignal.timeout(5_000),
          });
        } catch (err) {
          throw new DeliveryError(`gateway unreachable: ${(err as Error).message}`, true);
        }
        await res.text();
        if (res.ok) return;
        const retryAfter = res.headers.get('retry-after');
        if (res.status === 429) throw new DeliveryError('gateway answered 429', true, retryAfter ? Number(retryAfter) * 1000 : null);
        throw new DeliveryError(`gateway answered ${res.status}`, res.status >= 500);
      },
    };
  }

  get channels(): Record<NotificationChannel, ChannelProvider> {
    return { push: this.provider('push'), email: this.provider('email'), sms: this.provider('sms') };
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
