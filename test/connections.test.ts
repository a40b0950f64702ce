import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { call } from '../protocol/client.js';
import { startHarness, type Harness } from './support/harness.js';
import { scrape, series } from './support/metrics.js';
import { until } from './support/until.js';

/** An engine.io connection over a raw WebSocket that never joins a namespace nor signs in. */
async function rawConnection(url: string, address: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`, { headers: { 'x-forwarded-for': address } });
  await new Promise((resolve, reject) =>
    ws
      .once('open', resolve)
      .once('error', reject)
      .once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`))),
  );
  return ws;
}

/** A polling handshake: how a refusal reads to any client. */
async function handshake(url: string, address: string) {
  const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { 'x-forwarded-for': address } });
  const text = await res.text();
  return { status: res.status, body: res.status === 200 ? 'open' : (JSON.parse(text) as unknown) };
}

const closed = (ws: WebSocket) => new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once('close', () => resolve())));

describe('connection limits', () => {
  let h: Harness;
  const open: WebSocket[] = [];
  beforeAll(async () => {
    h = await startHarness({ env: { TRUST_PROXY: '1', MAX_CONNECTIONS_PER_ADDRESS: '5', MAX_CONNECTIONS: '8', AUTH_TIMEOUT_S: '600' } });
  });
  afterAll(async () => {
    for (const ws of open) ws.close();
    await h.close();
  });

  test('one address may hold only so many connections; the next handshake is refused with the reason', async () => {
    for (let i = 0; i < 5; i++) open.push(await rawConnection(h.url, '198.51.100.7'));
    expect(await handshake(h.url, '198.51.100.7')).toEqual({ status: 403, body: { code: 4, message: 'too many connections from this address (limit 5)' } });
    await expect(rawConnection(h.url, '198.51.100.7')).rejects.toThrow('HTTP 403');
    expect(series(await scrape(h.url), 'lilium_connections_refused_total')).toEqual({ 'limit=address': 2 });
    // Another client is not affected, and a closed connection frees its place.
    open.push(await rawConnection(h.url, '198.51.100.8'));
    open.shift()!.close();
    await until(async () => (await handshake(h.url, '198.51.100.7')).status === 200);
  });

  test('the node refuses handshakes beyond its total limit, whatever the address', async () => {
    let n = 0;
    await until(async () => {
      // Polling handshakes opened by the test above count until the engine drops them; fill up to the limit, one address each.
      const res = await handshake(h.url, `198.51.100.${30 + n++}`);
      if (res.status === 200) return false;
      expect(res).toEqual({ status: 403, body: { code: 4, message: 'this node holds its limit of 8 connections; retry later' } });
      return true;
    });
    await expect(rawConnection(h.url, '198.51.100.99')).rejects.toThrow('HTTP 403');
    expect(series(await scrape(h.url), 'lilium_connections_refused_total')['limit=node']).toBeGreaterThanOrEqual(2);
  });
});

describe('sign-in timeout', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { AUTH_TIMEOUT_S: '1' } });
  });
  afterAll(() => h.close());

  test('a socket that does not sign in in time is closed; a signed-in one stays', async () => {
    const signedIn = await h.login('shop1@demo.lilium');
    const anonymous = await h.connect();
    const raw = await rawConnection(h.url, '127.0.0.1');
    // Generous bounds: both were opened after the signed-in socket, whose own timer has fired by then.
    expect(await h.disconnected(anonymous, 15_000)).toBe('io server disconnect');
    await Promise.race([closed(raw), new Promise((_, reject) => setTimeout(() => reject(new Error('raw connection still open')), 15_000))]);
    expect(signedIn.socket.connected).toBe(true);
    expect(await call(signedIn.socket, 'me:get', {})).toMatchObject({ id: signedIn.userId });
  });
});
