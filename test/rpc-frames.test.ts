import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { call, RpcError } from '../protocol/client.js';
import type { WireError } from '../protocol/errors.js';
import { expectRateLimited, rejection } from './support/expect.js';
import { startHarness, type Harness } from './support/harness.js';

/** A Socket.IO client spoken by hand, to send the frames no well-behaved client would. */
class RawSocket {
  readonly frames: string[] = [];
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const frame = data.toString();
      if (frame === '2') ws.send('3');
      else this.frames.push(frame);
    });
  }

  static async open(url: string): Promise<RawSocket> {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const raw = new RawSocket(ws);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await raw.next((f) => f.startsWith('0{'));
    ws.send('40');
    await raw.next((f) => f.startsWith('40{'));
    return raw;
  }

  send(frame: string): void {
    this.ws.send(frame);
  }

  /** The first frame received (or to come) that matches; frames are consumed as they are matched. */
  async next(match: (frame: string) => boolean, timeoutMs = 5000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex(match);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      if (Date.now() > end) throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  closed(): Promise<void> {
    return new Promise((resolve) => (this.ws.readyState === WebSocket.CLOSED ? resolve() : this.ws.once('close', () => resolve())));
  }

  close(): void {
    this.ws.close();
  }
}

/** The error of an answer: an ack (`43<id>[…]`) or an `rpc:error` push (`42["rpc:error",…]`). */
function errorOf(frame: string): { code: string; message: string; details?: unknown } {
  const body = JSON.parse(frame.replace(/^4[23]\d*/, '')) as unknown[];
  const answer = body[0] === 'rpc:error' ? (body[1] as { error: never }) : (body[0] as { error: never });
  return answer.error;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_PER_S: '1', RATE_LIMIT_BURST: '5' } });
});
afterAll(() => h.close());

const internalErrors = () => h.logs.filter((l) => (l.level as number) >= 50);

test('calls without a string event name are answered BAD_REQUEST, counted, and never logged as internal errors', async () => {
  const raw = await RawSocket.open(h.url);
  const before = internalErrors().length;
  raw.send('42'); // no event at all, no ack
  expect(errorOf(await raw.next((f) => f.startsWith('42["rpc:error"')))).toEqual({ code: 'BAD_REQUEST', message: 'a call must name its event with a string' });
  raw.send('421'); // no event, with an ack
  expect(errorOf(await raw.next((f) => f.startsWith('431[')))).toEqual({ code: 'BAD_REQUEST', message: 'a call must name its event with a string' });
  raw.send('422[7,{}]'); // a number for a name
  expect(errorOf(await raw.next((f) => f.startsWith('432[')))).toEqual({ code: 'BAD_REQUEST', message: 'a call must name its event with a string' });
  raw.send('423["zones:nope",{}]');
  expect(errorOf(await raw.next((f) => f.startsWith('433[')))).toEqual({ code: 'NOT_FOUND', message: 'unknown event "zones:nope"' });
  expect(internalErrors().slice(before)).toEqual([]);
  const metrics = await (await fetch(`${h.url}/metrics`)).text();
  expect(metrics).toContain('lilium_rpc_calls_total{event="(unknown)",code="BAD_REQUEST"} 3');
  expect(metrics).not.toContain('code="INTERNAL"');
  raw.close();
});

test('malformed and unknown calls take from the rate limit before anything else', async () => {
  const raw = await RawSocket.open(h.url);
  for (let i = 0; i < 12; i++) raw.send(i % 2 ? `42${i}["no:such-event-${i}",{}]` : `42${i}`);
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => raw.next((f) => f.startsWith(`43${i}[`)).then(errorOf)));
  const limited = answers.filter((a) => a.code === 'RATE_LIMITED');
  // Burst 5, one more a second: however slow the machine, most of the twelve are refused.
  expect(limited.length).toBeGreaterThanOrEqual(12 - 5 - 3);
  expect(limited[0]).toEqual({ code: 'RATE_LIMITED', message: 'too many calls; slow down', details: { retryInMs: expect.any(Number) } });
  // One token a second: the next comes within a second.
  for (const a of limited) expectRateLimited(new RpcError(a as WireError), 1, 1000);
  expect(answers.filter((a) => a.code !== 'RATE_LIMITED').every((a) => a.code === 'BAD_REQUEST' || a.code === 'NOT_FOUND')).toBe(true);
  expect(internalErrors()).toEqual([]);
  // Each run of refusals is logged once, not once a frame.
  const loggedRefusals = h.logs.filter((l) => l.msg === 'rpc' && l.code === 'RATE_LIMITED').length;
  expect(loggedRefusals).toBeGreaterThanOrEqual(1);
  expect(loggedRefusals).toBeLessThan(limited.length);
  raw.close();
});

test('frames the parser cannot read close the connection quietly', async () => {
  for (const frame of ['42[]', '42[null]', '42{}', '42["x"']) {
    const raw = await RawSocket.open(h.url);
    raw.send(frame);
    await raw.closed();
  }
  expect(internalErrors()).toEqual([]);
});

test('before sign-in a client address shares one bucket: new sockets buy no more calls', async () => {
  const shared = await startHarness({ env: { TRUST_PROXY: '1', RATE_LIMIT_ADDRESS_PER_S: '1', RATE_LIMIT_ADDRESS_BURST: '6' } });
  try {
    // Six sockets from one address, two calls each: the address's burst of six is spent, whoever sends.
    const sockets = await Promise.all(Array.from({ length: 6 }, () => shared.connect({ address: '198.51.100.77' })));
    const codes = await Promise.all(
      sockets.flatMap((s) =>
        [1, 2].map(() =>
          call(s, 'zones:list', {}).then(
            () => 'OK',
            (e: RpcError) => e.code,
          ),
        ),
      ),
    );
    expect(codes.filter((c) => c === 'UNAUTHENTICATED')).toHaveLength(6);
    expect(codes.filter((c) => c === 'RATE_LIMITED').length).toBeGreaterThanOrEqual(12 - 6 - 1);
    expectRateLimited(await rejection(call(sockets[0]!, 'zones:list', {})), 1, 1000);
    // Another address is not held up.
    const other = await shared.connect({ address: '198.51.100.78' });
    expect(await call(other, 'zones:list', {}).catch((e: RpcError) => e.code)).toBe('UNAUTHENTICATED');
  } finally {
    await shared.close();
  }
});
