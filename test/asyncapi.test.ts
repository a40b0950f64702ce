import { DiagnosticSeverity, Parser, type AsyncAPIDocumentInterface } from '@asyncapi/parser';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Id } from '../protocol/common.js';
import { PROTOCOL_VERSION, eventNames, events, pushes } from '../protocol/index.js';
import { startHarness, type Harness } from './support/harness.js';

const PUBLIC_URL = 'https://lilium.example/api';

let h: Harness;
let served: string;
let doc: AsyncAPIDocumentInterface;
let problems: string[];
beforeAll(async () => {
  h = await startHarness({ env: { PUBLIC_URL } });
  const res = await fetch(`${h.url}/asyncapi.json`);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  served = await res.text();
  const parsed = await new Parser().parse(served);
  // Errors and warnings are what tools refuse or flag. Information and hints are advice that changes
  // with the parser's release (such as "a newer AsyncAPI version exists"), not faults of the document.
  problems = parsed.diagnostics.filter((d) => d.severity <= DiagnosticSeverity.Warning).map((d) => `${d.code}: ${d.message} at ${d.path.join('/')}`);
  doc = parsed.document!;
});
afterAll(() => h.close());

test('/asyncapi.json passes the official AsyncAPI parser with no error and no warning', () => {
  expect(problems).toEqual([]);
  expect(doc.version()).toBe('3.1.0');
});

test('info.version is the version of @lilium/protocol', () => {
  expect(doc.info().version()).toBe(PROTOCOL_VERSION);
});

test('the server is PUBLIC_URL, not the bind address', () => {
  expect(
    doc
      .servers()
      .all()
      .map((s) => s.url()),
  ).toEqual(['wss://lilium.example/api/socket.io/']);
});

test('every event is a send with its input, its roles and its ack as the reply', () => {
  for (const name of eventNames) {
    const op = doc.operations().get(name);
    expect(op?.action(), name).toBe('send');
    expect(op!.summary()).toBe(events[name].summary);
    expect(op!.extensions().get('x-roles')?.value(), name).toEqual(events[name].roles);
    expect(
      op!
        .channels()
        .all()
        .map((c) => c.address()),
    ).toEqual([name]);
    expect(
      op!
        .messages()
        .all()
        .map((m) => m.payload()?.id()),
    ).toHaveLength(1);
    expect(
      op!
        .reply()!
        .messages()
        .all()
        .map(
          (m) =>
            m
              .payload()
              ?.oneOf()
              ?.map((s) => s.id())[1],
        ),
    ).toEqual(['Failure']);
  }
  expect(doc.operations().get('users:create')!.description()).toBe('Roles: SUPER_ADMIN, ADMIN, COMPANY_MANAGER.');
  expect(doc.operations().get('auth:login')!.description()).toBe('Anyone, also before signing in.');
});

test('every push is a receive, saying who gets it; stored ones in their envelope', () => {
  for (const [name, spec] of Object.entries(pushes)) {
    const op = doc.operations().get(name);
    expect(op?.action(), name).toBe('receive');
    expect(op!.description()!.replaceAll('`', ''), name).toContain(`To ${spec.to}.`);
    const payload = op!.messages().all()[0]!.payload()!;
    if (spec.stored) expect(Object.keys(payload.properties() ?? {}).sort(), name).toEqual(['at', 'data', 'event', 'seq']);
  }
  expect(doc.operations().get('order:updated')!.description()).toBe(
    'To `shop:<id>`, `vendor:<id>`, `driver:<id>` when assigned, admins. Stored: again through `feed:sync`.',
  );
  expect(doc.operations().all()).toHaveLength(eventNames.length + Object.keys(pushes).length);
});

test('every payload is a named schema, each written once, and the category tree refers to itself', () => {
  for (const message of doc.allMessages().all()) expect(message.payload()!.id()).toMatch(/^[A-Z][A-Za-z0-9]+$/);
  expect(doc.operations().get('auth:login')!.messages().all()[0]!.payload()!.id()).toBe('AuthLoginInput');
  expect(doc.operations().get('order:new')!.messages().all()[0]!.payload()!.id()).toBe('OrderNewEnvelope');
  const raw = JSON.parse(served) as { components: { schemas: Record<string, { properties?: Record<string, { items?: unknown }> }> } };
  expect(raw.components.schemas.CategoryNode!.properties!.children!.items).toEqual({ $ref: '#/components/schemas/CategoryNode' });
  // An id's pattern is long and used everywhere: it appears once, in the Id component.
  const uuidPattern = JSON.stringify((Id.toJSONSchema() as { pattern: string }).pattern);
  expect(served.split(uuidPattern)).toHaveLength(2);
});

test('/docs renders the document for people, from this server alone', async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    const failures: string[] = [];
    page.on('request', (req) => {
      if (!req.url().startsWith(h.url)) elsewhere.push(req.url());
    });
    page.on('pageerror', (err) => failures.push(err.message));
    page.on('console', (message) => {
      if (message.type() === 'error') failures.push(message.text());
    });
    const res = await page.goto(`${h.url}/docs`);
    expect(res?.headers()['content-type']).toBe('text/html; charset=utf-8');
    // The component fetches and parses the document in the page, then renders every operation.
    const names = JSON.stringify([...eventNames, ...Object.keys(pushes)]);
    await page.waitForFunction(`${names}.every((name) => document.body.innerText.includes(name))`, undefined, { timeout: 90_000, polling: 500 });
    expect(await page.locator('#introduction').innerText()).toContain('The Socket.IO events of Lilium');
    expect(await page.locator('#servers').innerText()).toContain('wss://lilium.example/api/socket.io/');
    expect(elsewhere).toEqual([]);
    expect(failures).toEqual([]);
  } finally {
    await browser.close();
  }
}, 150_000);

test('the page assets are served compressed to browsers that accept it', async () => {
  const res = await fetch(`${h.url}/docs/asyncapi.js`, { headers: { 'accept-encoding': 'gzip' } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-encoding')).toBe('gzip');
  expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  expect(await res.text()).toContain('AsyncApiStandalone');
});
