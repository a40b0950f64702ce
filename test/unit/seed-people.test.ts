import { describe, expect, test } from 'vitest';
import { neighbourhoods } from '../../db/seed/people-data.js';
import { mobile, peopleFaker, personName, pickScript, shopAddress, shopName, unique } from '../../db/seed/people.js';

// The demo's people and places, drawn without a database.

const ARABIC = /^[\u0600-\u06FF\s0-9،]+$/;
const LATIN = /^[A-Za-z0-9 ,.'-]+$/;

/** What `draws` rounds of every generator give from one seed. */
function sample(seed: number, draws = 40) {
  const f = peopleFaker(seed);
  return Array.from({ length: draws }, () => {
    const script = pickScript(f);
    return { script, person: personName(f, script), shop: shopName(f, script), phone: mobile(f), address: shopAddress(f, 'RUSAFA', script) };
  });
}

test('one seed draws the same people and places every time; another seed draws others', () => {
  expect(sample(7)).toEqual(sample(7));
  expect(sample(8)).not.toEqual(sample(7));
});

test('both scripts are drawn, and each name and address is wholly in its own', () => {
  const drawn = sample(20251125);
  expect(new Set(drawn.map((d) => d.script))).toEqual(new Set(['ar', 'en']));
  for (const d of drawn) {
    const script = d.script === 'ar' ? ARABIC : LATIN;
    for (const text of [d.person, d.shop, d.address.label, d.address.line, d.address.notes ?? (d.script === 'ar' ? 'ملاحظة' : 'note')])
      expect(text, `${d.script}: ${text}`).toMatch(script);
  }
});

test('phones are Iraqi mobiles in E.164: +964, an operator prefix, seven digits', () => {
  for (const { phone } of sample(3, 200)) expect(phone).toMatch(/^\+964(75[01]|77[0-5]|78[0-2]|790)\d{7}$/);
});

describe('addresses', () => {
  test('lie in the zone they are drawn for: one of its neighbourhoods, near its middle', () => {
    const f = peopleFaker(1);
    for (const [code, zone] of Object.entries(neighbourhoods))
      for (let i = 0; i < 20; i++) {
        const a = shopAddress(f, code, 'en');
        expect(zone.names.some((n) => a.line.startsWith(`${n.en}, Mahalla `))).toBe(true);
        expect(Math.abs(a.lat - zone.centre.lat)).toBeLessThanOrEqual(0.015);
        expect(Math.abs(a.lng - zone.centre.lng)).toBeLessThanOrEqual(0.015);
      }
  });

  test('a zone with no neighbourhoods is a seed error, not an address elsewhere', () => {
    expect(() => shopAddress(peopleFaker(1), 'BASRA', 'ar')).toThrow('seed: no neighbourhoods for zone BASRA');
  });
});

test('unique() answers values not taken yet, and says so when the list runs out', () => {
  const taken = new Set(['a']);
  const draws = ['a', 'a', 'b'];
  expect(unique(taken, () => draws.shift()!)).toBe('b');
  expect(taken).toEqual(new Set(['a', 'b']));
  expect(() => unique(taken, () => 'a')).toThrow('seed: ran out of distinct values');
});
