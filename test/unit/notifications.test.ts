import { describe, expect, test } from 'vitest';
import { Locale, Roles } from '../../protocol/common.js';
import { NotificationKind } from '../../protocol/notifications.js';
import { fellToThreshold } from '../../server/catalog/stock.service.js';
import { loadConfig } from '../../server/config.js';
import { deliveriesOf, type NotifyInput } from '../../server/notifications/notify.js';
import { channelsFor, DEFAULT_PREFERENCES, preferencesOf } from '../../server/notifications/preferences.js';
import { formatDay, formatMoney, render, renderDirect, TEMPLATES, type Template } from '../../server/notifications/templates.js';

const PLACEHOLDER = /\{(\w+)\}/g;
const placeholders = (text: string) => [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
const sample = (names: readonly string[]) => Object.fromEntries(names.map((n, i) => [n, `<${n}:${i}>`]));

describe('templates', () => {
  const kinds = NotificationKind.options;

  test('there is one template per kind, in both languages', () => {
    expect(Object.keys(TEMPLATES).sort()).toEqual([...kinds].sort());
  });

  test.each(kinds.flatMap((kind) => Locale.options.map((locale) => [kind, locale] as const)))(
    '%s renders in %s from its declared variables, leaving no placeholder and showing every value it uses',
    (kind, locale) => {
      const t: Template = TEMPLATES[kind];
      const vars = sample(t.vars);
      const { title, body } = render(kind, locale, vars);
      for (const text of [title, body]) {
        expect(text).not.toMatch(PLACEHOLDER);
        expect(text.trim()).not.toBe('');
      }
      const used = [...placeholders(t[locale].title), ...placeholders(t[locale].body)];
      for (const name of used) expect(`${title} ${body}`).toContain(vars[name]);
      // Secrets never reach the stored text.
      for (const name of t.secretVars ?? []) expect(used).not.toContain(name);
      if (t.secretVars) {
        const secrets = sample(t.secretVars);
        const direct = renderDirect(kind, locale, { ...vars, ...secrets });
        expect(direct).not.toMatch(PLACEHOLDER);
        for (const name of t.secretVars) expect(direct).toContain(secrets[name]);
      } else {
        expect(t[locale].direct).toBeUndefined();
      }
    },
  );

  test.each(kinds)('%s uses every variable it declares, and only those', (kind) => {
    const t: Template = TEMPLATES[kind];
    const texts = Locale.options.flatMap((l) => [t[l].title, t[l].body, t[l].direct ?? '']);
    const used = new Set(texts.flatMap(placeholders));
    expect([...used].sort()).toEqual([...t.vars, ...(t.secretVars ?? [])].sort());
  });

  test('a missing variable fails the render instead of reaching anyone', () => {
    expect(() => render('order.rejected', 'en', { number: 7, vendor: 'V' })).toThrow('order.rejected en body: no value for {reason}');
    expect(() => renderDirect('account.password_reset', 'ar', { minutes: 30 })).toThrow('account.password_reset ar direct: no value for {link}');
    expect(() => renderDirect('order.new', 'en', {})).toThrow('order.new has no direct text');
  });

  test('the two languages say the same thing with the same values', () => {
    const vars = { number: 42, vendor: 'Rafidain Foods', reason: 'out of flour' };
    expect(render('order.rejected', 'en', vars)).toEqual({ title: 'Order #42 rejected', body: 'Rafidain Foods rejected your order: out of flour' });
    expect(render('order.rejected', 'ar', vars)).toEqual({ title: 'تم رفض الطلب رقم 42', body: 'رفض Rafidain Foods طلبك: out of flour' });
    const stock = { productAr: 'سكر', productEn: 'Sugar', stock: 3, threshold: 5 };
    expect(render('stock.low', 'ar', stock).title).toBe('مخزون منخفض: سكر');
    expect(render('stock.low', 'en', stock).title).toBe('Low stock: Sugar');
  });

  test('money is the major unit by the currency’s ISO minor unit, decimals only when there are any, and its code; days are UTC dates', () => {
    expect(formatMoney(1_500_000, 'IQD')).toBe('1,500 IQD');
    expect(formatMoney(1_500_250, 'IQD')).toBe('1,500.250 IQD');
    expect(formatMoney(-1250, 'USD')).toBe('-12.50 USD');
    expect(formatMoney(1200, 'USD')).toBe('12 USD');
    expect(formatMoney(5, 'KWD')).toBe('0.005 KWD');
    expect(formatMoney(700, 'XYZ')).toBe('700 XYZ');
    expect(formatDay('2026-11-25T23:30:00.000Z')).toBe('2026-11-25');
  });
});

describe('channels', () => {
  test('each role has its defaults: staff push for new orders and low stock, managers also email for money, shops push for orders, drivers for deliveries', () => {
    expect(channelsFor({}, 'orders', 'VENDOR')).toEqual(['push']);
    expect(channelsFor({}, 'stock', 'VENDOR')).toEqual(['push']);
    expect(channelsFor({}, 'money', 'VENDOR')).toEqual([]);
    expect(channelsFor({}, 'money', 'COMPANY_MANAGER')).toEqual(['push', 'email']);
    expect(channelsFor({}, 'orders', 'SHOP_OWNER')).toEqual(['push']);
    expect(channelsFor({}, 'delivery', 'SHOP_OWNER')).toEqual([]);
    expect(channelsFor({}, 'delivery', 'DRIVER')).toEqual(['push']);
    expect(channelsFor({}, 'orders', 'DRIVER')).toEqual([]);
    expect(channelsFor({}, 'orders', 'ADMIN')).toEqual(['push']);
    for (const role of Roles) expect(DEFAULT_PREFERENCES[role].orders.sms || DEFAULT_PREFERENCES[role].money.sms).toBe(false);
  });

  test('a choice overrides the default of that group and channel only', () => {
    const stored = { orders: { push: false, sms: true }, money: { email: false } };
    expect(channelsFor(stored, 'orders', 'VENDOR')).toEqual(['sms']);
    expect(channelsFor(stored, 'money', 'COMPANY_MANAGER')).toEqual(['push']);
    expect(channelsFor(stored, 'stock', 'COMPANY_MANAGER')).toEqual(['push']);
    expect(preferencesOf(stored, 'VENDOR')).toEqual({
      orders: { push: false, email: false, sms: true },
      delivery: { push: false, email: false, sms: false },
      money: { push: false, email: false, sms: false },
      stock: { push: true, email: false, sms: false },
      account: { push: true, email: true, sms: true },
    });
  });

  test('account messages go everywhere, whatever was stored', () => {
    const stored = { account: { push: false, email: false, sms: false } };
    for (const role of Roles) expect(channelsFor(stored, 'account', role)).toEqual(['push', 'email', 'sms']);
  });

  const config = loadConfig({ PUBLIC_URL: 'https://lilium.example' });
  const person = (over: Partial<Parameters<typeof deliveriesOf>[2][number]> = {}) => ({
    id: '00000000-0000-4000-8000-000000000001',
    user_id: '00000000-0000-4000-8000-0000000000aa',
    title: 'T',
    body: 'B',
    created_at: new Date(),
    email: 'a@example.com',
    phone: '+9647700000001',
    role: 'COMPANY_MANAGER' as const,
    locale: 'en' as const,
    unread: 1,
    pushable: true,
    chosen: {},
    ...over,
  });

  test('a notification is delivered on each channel the recipient’s preferences enable and that they can be reached on', () => {
    const input: NotifyInput = { kind: 'settlement.paid', userIds: [], vars: {}, link: { type: 'settlement', id: '00000000-0000-4000-8000-0000000000ff' } };
    const withPhone = person({ chosen: { sms: true } });
    const noEmail = person({ id: '00000000-0000-4000-8000-000000000002', user_id: '00000000-0000-4000-8000-0000000000bb', email: null, locale: 'ar' });
    const noDevice = person({ id: '00000000-0000-4000-8000-000000000003', user_id: '00000000-0000-4000-8000-0000000000cc', pushable: false });
    const got = deliveriesOf(config, input, [withPhone, noEmail, noDevice]);
    expect(got.map((d) => [d.userId, d.channel, d.address])).toEqual([
      [withPhone.user_id, 'push', null],
      [withPhone.user_id, 'email', 'a@example.com'],
      [withPhone.user_id, 'sms', '+9647700000001'],
      [noEmail.user_id, 'push', null],
      [noDevice.user_id, 'email', 'a@example.com'],
    ]);
    expect(got[0]!.message).toEqual({
      kind: 'settlement.paid',
      locale: 'en',
      title: 'T',
      body: 'B',
      url: 'https://lilium.example/settlements/00000000-0000-4000-8000-0000000000ff',
      data: { kind: 'settlement.paid', notificationId: withPhone.id, linkType: 'settlement', linkId: '00000000-0000-4000-8000-0000000000ff' },
    });
    expect(got[3]!.message.locale).toBe('ar');
    expect(got.every((d) => !d.secret)).toBe(true);
  });

  test('a direct message is the one secret delivery to its address, whatever the preferences, with the link as its url', () => {
    const input: NotifyInput = {
      kind: 'account.password_reset',
      userIds: [],
      vars: { minutes: 30 },
      direct: { channel: 'sms', address: '+9647700000009', secretVars: { link: 'https://lilium.example/reset-password?token=abc' } },
    };
    const [only, ...rest] = deliveriesOf(config, input, [person({ chosen: { push: true, email: true } })]);
    expect(rest).toEqual([]);
    expect(only).toMatchObject({
      channel: 'sms',
      address: '+9647700000009',
      secret: true,
      message: { url: 'https://lilium.example/reset-password?token=abc' },
    });
    expect(only!.message.body).toBe(
      'Reset your Lilium password within 30 minutes at https://lilium.example/reset-password?token=abc — if you did not ask for this, ignore this message.',
    );
  });
});

describe('low stock', () => {
  const at = (stock: number, alerted: boolean) => ({ stock, low_stock_threshold: 5, low_stock_alerted: alerted });
  test('a fall to or below the threshold is told once, until the stock rises above it again', () => {
    expect(fellToThreshold(at(6, false), -1)).toBe(false);
    expect(fellToThreshold(at(5, false), -1)).toBe(true);
    expect(fellToThreshold(at(4, true), -1)).toBe(false);
    expect(fellToThreshold(at(0, true), -4)).toBe(false);
    // A level above the threshold before the move counts, even if a write elsewhere left the flag set.
    expect(fellToThreshold(at(3, true), -4)).toBe(true);
    // Restocking that stays low tells only what was never told.
    expect(fellToThreshold(at(4, true), 2)).toBe(false);
    expect(fellToThreshold(at(4, false), 2)).toBe(true);
  });
});
