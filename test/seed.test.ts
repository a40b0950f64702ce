import { afterAll, beforeAll, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { demoLogins, shopPhone } from '../db/seed/seed.js';
import { startHarness, type Harness } from './support/harness.js';

// The demo data as the seed leaves it: what a person trying Lilium sees first.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const ARABIC = /[\u0600-\u06FF]/;
const LATIN = /^[A-Za-z]/;

test('every demo login signs in, and shop owners sign in by their phone too', async () => {
  for (const { email } of demoLogins) expect((await call((await h.login(email)).socket, 'me:get', {})).email).toBe(email);
  const byPhone = await h.login(shopPhone(5), { app: 'mobile' });
  expect((await call(byPhone.socket, 'me:get', {})).email).toBe('shop5@demo.lilium');
});

test('shops, vendors, drivers and staff are named in Arabic and in English', async () => {
  const names = await h.q<{ kind: string; name: string }>(
    `SELECT 'shop' AS kind, name FROM shops UNION ALL SELECT 'vendor', name FROM vendors
     UNION ALL SELECT lower(role), name FROM users WHERE role IN ('DRIVER', 'SHOP_OWNER', 'VENDOR', 'COMPANY_MANAGER')`,
  );
  const scripts = (kind: string) => {
    const of = names.filter((n) => n.kind === kind);
    return {
      arabic: of.some((n) => ARABIC.test(n.name)),
      english: of.some((n) => LATIN.test(n.name)),
      every: of.every((n) => ARABIC.test(n.name) || LATIN.test(n.name)),
    };
  };
  for (const kind of ['shop', 'vendor', 'driver', 'shop_owner', 'company_manager'])
    expect([kind, scripts(kind)]).toEqual([kind, { arabic: true, english: true, every: true }]);
  expect(new Set(names.filter((n) => n.kind === 'shop').map((n) => n.name)).size).toBe(20);
});

test('every phone is an Iraqi mobile in E.164, and none is shared', async () => {
  const phones = (await h.q<{ phone: string }>(`SELECT phone FROM users WHERE phone IS NOT NULL`)).map((r) => r.phone);
  expect(phones).toHaveLength(await h.q<{ n: number }>(`SELECT count(*)::int AS n FROM users`).then((r) => r[0]!.n));
  expect(phones.filter((p) => !/^\+964(75[01]|77[0-5]|78[0-2]|790)\d{7}$/.test(p))).toEqual([]);
  expect(new Set(phones).size).toBe(phones.length);
});

test("each shop has one default address in its own zone, in its owner's script, on the map of Baghdad", async () => {
  const rows = await h.q<{ email: string; shop: string; zone_ok: boolean; addresses: number }>(
    `SELECT u.email, s.name AS shop, bool_and(a.zone_id = s.zone_id) AS zone_ok, count(a.id)::int AS addresses
       FROM shops s JOIN users u ON u.id = s.owner_id LEFT JOIN addresses a ON a.shop_id = s.id AND a.deleted_at IS NULL AND a.is_default
      GROUP BY u.email, s.name`,
  );
  expect(rows).toHaveLength(20);
  expect(rows.filter((r) => r.addresses !== 1 || !r.zone_ok)).toEqual([]);
  for (const email of ['shop1@demo.lilium', 'shop2@demo.lilium', 'shop3@demo.lilium']) {
    const shop = rows.find((r) => r.email === email)!.shop;
    const [address] = (await call((await h.login(email)).socket, 'addresses:list', {})).items;
    expect(address).toMatchObject({ isDefault: true, label: ARABIC.test(shop) ? 'المحل' : 'Shop' });
    expect(ARABIC.test(address!.line)).toBe(ARABIC.test(shop));
    expect(address!.location!.lat).toBeGreaterThan(33.2);
    expect(address!.location!.lat).toBeLessThan(33.45);
    expect(address!.location!.lng).toBeGreaterThan(44.25);
    expect(address!.location!.lng).toBeLessThan(44.5);
  }
});
