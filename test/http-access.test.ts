import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from './support/harness.js';

const TOKEN = 'metrics-token-0123456789abcdef';

/** The CORS answer to a browser's polling handshake from `origin`. */
async function corsFor(url: string, origin: string) {
  const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } });
  await res.arrayBuffer();
  return { origin: res.headers.get('access-control-allow-origin'), credentials: res.headers.get('access-control-allow-credentials') };
}

const metrics = (url: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/metrics`, { headers }).then(async (r) => ({ status: r.status, body: await r.text() }));
const refused = {
  status: 403,
  body: JSON.stringify({ error: { code: 'FORBIDDEN', message: 'metrics are served to METRICS_ALLOW addresses or with METRICS_TOKEN' } }),
};

describe('defaults', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { TRUST_PROXY: '1' } });
  });
  afterAll(() => h.close());

  test('CORS lets any origin connect but never with credentials', async () => {
    expect(await corsFor(h.url, 'https://evil.example')).toEqual({ origin: '*', credentials: null });
  });

  test('/metrics answers loopback only', async () => {
    expect((await metrics(h.url)).status).toBe(200);
    expect((await metrics(h.url, { 'x-forwarded-for': '127.0.0.1' })).body).toContain('lilium_connected_sockets');
    expect(await metrics(h.url, { 'x-forwarded-for': '203.0.113.5' })).toEqual(refused);
    expect(await metrics(h.url, { 'x-forwarded-for': '203.0.113.5', authorization: `Bearer ${TOKEN}` })).toEqual(refused);
  });
});

describe('configured', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      env: { CORS_ORIGINS: 'https://dash.example, https://admin.example', METRICS_ALLOW: '10.1.0.0/16,192.0.2.9', METRICS_TOKEN: TOKEN, TRUST_PROXY: '1' },
    });
  });
  afterAll(() => h.close());

  test('CORS credentials go to the configured origins only', async () => {
    expect(await corsFor(h.url, 'https://dash.example')).toEqual({ origin: 'https://dash.example', credentials: 'true' });
    expect((await corsFor(h.url, 'https://evil.example')).origin).not.toBe('https://evil.example');
  });

  test('/metrics answers the listed addresses or the bearer of METRICS_TOKEN', async () => {
    expect(await metrics(h.url)).toEqual(refused);
    expect(await metrics(h.url, { authorization: 'Bearer wrong-token-0123456789abcdef' })).toEqual(refused);
    const allowed = await metrics(h.url, { authorization: `Bearer ${TOKEN}` });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toContain('lilium_connected_sockets');
    for (const address of ['10.1.200.3', '192.0.2.9']) expect((await metrics(h.url, { 'x-forwarded-for': address })).status, address).toBe(200);
    expect(await metrics(h.url, { 'x-forwarded-for': '10.2.0.1' })).toEqual(refused);
  });
});
