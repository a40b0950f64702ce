/** The demo's people, shops and addresses as a Baghdad trader would write them, drawn from one seeded generator. */
import type { Faker } from '@faker-js/faker';
// The package's index loads every one of its 70 locales (16 MiB of heap, for the life of the process); this
// entry loads only Arabic, English and their base, the chain `peopleFaker` uses.
import { faker as arabic } from '@faker-js/faker/locale/ar';
import { deliveryNotes, familyNames, landmarks, latinFirstNames, mobilePrefixes, neighbourhoods, shopKinds, shopProperNames } from './people-data.js';

/** Which script a name or an address is written in. */
export type Script = 'ar' | 'en';

/**
 * A generator of its own, apart from the catalogue's, so that changing how people are named never reshuffles
 * products or ids. Arabic first: a name faker's Arabic locale has is taken from it.
 */
export function peopleFaker(seed: number): Faker {
  // The Arabic entry's instance is built on [ar, en, base]: a new one from its definitions, so each seed has its own.
  const FakerOf = arabic.constructor as new (options: { locale: Faker['rawDefinitions']; seed: number }) => Faker;
  return new FakerOf({ locale: arabic.rawDefinitions, seed });
}

/** About two in three write in Arabic and the rest in English, as in a Baghdad wholesaler's customer list. */
export const pickScript = (f: Faker): Script => (f.datatype.boolean({ probability: 2 / 3 }) ? 'ar' : 'en');

export function personName(f: Faker, script: Script): string {
  const sex = f.helpers.arrayElement(['female', 'male'] as const);
  const first = script === 'ar' ? f.person.firstName(sex) : f.helpers.arrayElement(latinFirstNames[sex]);
  return `${first} ${f.helpers.arrayElement(familyNames)[script]}`;
}

export function shopName(f: Faker, script: Script): string {
  return f.helpers.arrayElement(shopKinds)[script].replace('{name}', f.helpers.arrayElement(shopProperNames)[script]);
}

/** A value from `draw` not yet in `taken` (then taken); bounded, as the lists are finite. */
export function unique(taken: Set<string>, draw: () => string): string {
  for (let i = 0; i < 1000; i++) {
    const value = draw();
    if (taken.has(value)) continue;
    taken.add(value);
    return value;
  }
  throw new Error('seed: ran out of distinct values');
}

/** An Iraqi mobile number in E.164, +964 then a mobile operator's prefix and seven digits. */
export const mobile = (f: Faker): string => `+964${f.helpers.arrayElement(mobilePrefixes)}${f.string.numeric(7)}`;

export interface SeedAddress {
  label: string;
  line: string;
  notes: string | null;
  lat: number;
  lng: number;
}

/** A shop's door in its zone, the Baghdad way: neighbourhood, mahalla, zuqaq (alley), house, and a landmark. */
export function shopAddress(f: Faker, zoneCode: string, script: Script): SeedAddress {
  const zone = neighbourhoods[zoneCode];
  if (!zone) throw new Error(`seed: no neighbourhoods for zone ${zoneCode}`);
  const hood = f.helpers.arrayElement(zone.names)[script];
  const [mahalla, zuqaq, house] = [f.number.int({ min: 101, max: 999 }), f.number.int({ min: 1, max: 60 }), f.number.int({ min: 1, max: 120 })];
  const landmark = f.helpers.arrayElement(landmarks)[script];
  const near = (v: number) => Math.round((v + f.number.float({ min: -0.015, max: 0.015 })) * 1e5) / 1e5;
  return {
    label: script === 'ar' ? 'المحل' : 'Shop',
    line:
      script === 'ar'
        ? `${hood}، محلة ${mahalla}، زقاق ${zuqaq}، دار ${house}، ${landmark}`
        : `${hood}, Mahalla ${mahalla}, Zuqaq ${zuqaq}, House ${house}, ${landmark}`,
    notes: f.datatype.boolean() ? f.helpers.arrayElement(deliveryNotes)[script] : null,
    lat: near(zone.centre.lat),
    lng: near(zone.centre.lng),
  };
}
