import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { neutralise } from '../server/catalog/csv.js';
import { rejection } from './support/expect.js';
import { startHarness, type Harness, type Session } from './support/harness.js';
import { upload } from './support/images.js';

let h: Harness;
let admin: Session, staff1: Session, staff2: Session;

beforeAll(async () => {
  h = await startHarness();
  [admin, staff1, staff2] = (await Promise.all(['admin', 'vendor1', 'vendor2'].map((u) => h.login(`${u}@demo.lilium`)))) as [Session, Session, Session];
});
afterAll(() => h.close());

const HEADER = [
  'sku',
  'name_ar',
  'name_en',
  'description_ar',
  'description_en',
  'category',
  'unit',
  'units_per_pack',
  'price',
  'compare_at_price',
  'min_order_qty',
  'stock',
  'low_stock_threshold',
  'featured',
  'status',
  'zones',
];

type ImportResult = { status: string; created: number; updated: number; errors: Array<{ row: number; field: string | null; message: string }> };

async function runImport(session: Session, body: string, mode: 'all-or-nothing' | 'partial' = 'all-or-nothing'): Promise<ImportResult> {
  const up = await upload(h.url, session.accessToken, Buffer.from(body), { kind: 'csv', filename: 'p.csv', type: 'text/csv' });
  expect(up.status).toBe(201);
  const done = new Promise<ImportResult>((resolve) => session.socket.on('import:progress', (r) => r.status !== 'RUNNING' && resolve(r)));
  try {
    await call(session.socket, 'products:import', { uploadId: up.body.id, mode });
    return await done;
  } finally {
    session.socket.off('import:progress');
  }
}

const startImport = async (body: string) => {
  const up = await upload(h.url, staff1.accessToken, Buffer.from(body), { kind: 'csv', filename: 'p.csv', type: 'text/csv' });
  return call(staff1.socket, 'products:import', { uploadId: up.body.id, mode: 'all-or-nothing' });
};

describe('CSV export cells', () => {
  test('formulas are neutralised on export and read back as they were on import', async () => {
    const tag = randomUUID().slice(0, 6);
    const names = ['=HYPERLINK("http://evil.example","x")', '+1+2', '-3', '@SUM(A1)', '-2 kg', "'quoted", 'plain'];
    const zones = (await call(staff1.socket, 'zones:list', {})).items;
    const [cat] = await h.q<{ id: string }>(`SELECT id FROM categories WHERE slug = 'sugar'`);
    for (const [i, name] of names.entries()) {
      await call(staff1.socket, 'products:create', {
        sku: `F-${tag}-${i}`,
        name: { ar: 'اسم', en: name },
        categoryId: cat!.id,
        price: 100,
        unit: 'PIECE',
        zoneIds: [zones[0]!.id],
      });
    }
    const { url } = await call(staff1.socket, 'products:export', {});
    const text = await (await fetch(`${h.url}${url}`)).text();
    const cells = text.split(/\r\n/).flatMap((line) => line.split(','));
    for (const c of cells) expect(c.replace(/^"/, '')).not.toMatch(/^[=+\-@\t\r]/);
    expect(text).toContain(`F-${tag}-0,اسم,"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(text).toContain(`F-${tag}-2,اسم,'-3,`);
    expect(text).toContain(`F-${tag}-5,اسم,''quoted,`);
    expect(['\t=1+1', '\r=1', 'x=1'].map(neutralise)).toEqual(["'\t=1+1", "'\r=1", 'x=1']);

    // The export imports back unchanged.
    const back = await runImport(
      staff1,
      text
        .split('\r\n')
        .filter((l, i) => i === 0 || l.startsWith(`F-${tag}-`))
        .join('\r\n'),
    );
    expect(back).toMatchObject({ status: 'DONE', created: 0, updated: names.length, errors: [] });
    const rows = await h.q<{ sku: string; name_en: string }>(`SELECT sku, name_en FROM products WHERE sku LIKE $1 ORDER BY sku`, [`F-${tag}-%`]);
    expect(rows.map((r) => r.name_en)).toEqual(names);
  });

  test('settlement exports neutralise text cells but keep negative numbers as numbers', async () => {
    const { url } = await call(admin.socket, 'settlements:export', {});
    const res = await fetch(`${h.url}${url}`);
    expect(res.status).toBe(200);
    expect((await res.text()).split('\r\n')[0]).toBe(
      'id,vendor_id,period_start,period_end,status,orders,gross,commission,delivery_fees,adjustments,net_payable,paid_at',
    );
  });
});

describe('export downloads', () => {
  test('only the signed URL handed to its maker opens an export; no token, another user, an edit or an expiry are refused', async () => {
    const { url } = await call(staff1.socket, 'products:export', {});
    expect(url).toMatch(/^\/files\/exports\/[0-9a-f-]{36}\.csv\?expires=\d+&signature=[\w-]+$/);
    expect((await fetch(`${h.url}${url}`)).status).toBe(200);
    const bare = url.split('?')[0]!;
    expect((await fetch(`${h.url}${bare}`)).status).toBe(403);
    expect((await fetch(`${h.url}${bare}`, { headers: { authorization: `Bearer ${staff2.accessToken}` } })).status).toBe(403);
    const edited = url.replace(/signature=(.)/, (_, c: string) => `signature=${c === 'A' ? 'B' : 'A'}`);
    const refused = await fetch(`${h.url}${edited}`);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({
      error: { code: 'FORBIDDEN', message: 'an export opens only through the signed link given to whoever made it, before it expires' },
    });
    const later = url.replace(/expires=(\d+)/, (_, e: string) => `expires=${Number(e) + 3600}`);
    expect((await fetch(`${h.url}${later}`)).status).toBe(403);
    const other = await call(staff2.socket, 'products:export', {});
    const swapped = `${bare}?${other.url.split('?')[1]}`;
    expect((await fetch(`${h.url}${swapped}`)).status).toBe(403);
  });

  test('an expired link is refused', async () => {
    const short = await startHarness({ env: { EXPORT_URL_TTL_S: '1' } });
    try {
      const staff = await short.login('vendor1@demo.lilium');
      const { url } = await call(staff.socket, 'products:export', {});
      const expires = Number(/expires=(\d+)/.exec(url)![1]);
      while (Date.now() / 1000 <= expires + 1) await new Promise((r) => setTimeout(r, 200));
      expect((await fetch(`${short.url}${url}`)).status).toBe(403);
    } finally {
      await short.close();
    }
  });
});

describe('CSV import files', () => {
  const row = (sku: string) => `${sku},سكر,Sugar,,,sugar,PIECE,1,100,,1,5,0,false,ACTIVE,`;

  test('an unclosed quote is refused naming its line instead of swallowing the rest', async () => {
    const e = await rejection(startImport([HEADER.join(','), row('Q-1'), 'Q-2,"سكر,Sugar,,,sugar,PIECE,1,100,,1,5,0,false,ACTIVE,', row('Q-3')].join('\n')));
    expect({ code: e.code, details: e.details }).toEqual({ code: 'BAD_REQUEST', details: { line: 3, reason: 'CSV_QUOTE_NOT_CLOSED' } });
  });

  test('text after a closing quote is refused', async () => {
    const e = await rejection(startImport([HEADER.join(','), row('Q-4'), row('Q-5').replace(',Sugar,', ',"b"x,')].join('\n')));
    expect({ code: e.code, details: e.details }).toEqual({ code: 'BAD_REQUEST', details: { line: 3, reason: 'CSV_INVALID_CLOSING_QUOTE' } });
  });

  test('a row with the wrong number of cells is refused naming its line', async () => {
    const e = await rejection(startImport([HEADER.join(','), row('Q-6'), `${row('Q-7')},extra`].join('\n')));
    expect({ code: e.code, details: e.details }).toEqual({ code: 'BAD_REQUEST', details: { line: 3, reason: 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' } });
  });

  test('a ;-separated file from Excel is read', async () => {
    const tag = randomUUID().slice(0, 6);
    const result = await runImport(
      staff1,
      [
        HEADER.join(';'),
        `S-${tag};"سكر; ناعم";Sugar;;;sugar;PIECE;1;250;;1;5;0;false;ACTIVE;`,
        `S2-${tag};ملح;Salt;;;sugar;PIECE;1;100;;1;5;0;false;ACTIVE;`,
      ].join('\r\n'),
    );
    expect(result).toMatchObject({ status: 'DONE', created: 2, errors: [] });
    const [p] = await h.q<{ name_ar: string; price_minor: number }>(`SELECT name_ar, price_minor FROM products WHERE sku = $1`, [`S-${tag}`]);
    expect(p).toEqual({ name_ar: 'سكر; ناعم', price_minor: 250 });
  });
});
