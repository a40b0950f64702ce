import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { expect, test } from 'vitest';
import { PROTOCOL_VERSION } from '../../protocol/index.js';
import { canonical, fingerprint, hashOf, recorded } from '../../protocol/scripts/fingerprint.js';

// A wire change bumps @lilium/protocol's version: protocol/wire.json pins the wire's shape to a version.

test('the wire is what protocol/wire.json recorded for this version', async () => {
  const record = await recorded();
  expect(
    record,
    'the wire changed (or the version did) since protocol/wire.json was written: bump protocol/package.json’s version, ' +
      'add its entry to protocol/CHANGELOG.md, then run `npm run protocol:fingerprint`',
  ).toEqual({ version: PROTOCOL_VERSION, sha256: fingerprint() });
});

test('the version is semantic and has its CHANGELOG entry', async () => {
  expect(PROTOCOL_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  expect(await readFile(new URL('../../protocol/CHANGELOG.md', import.meta.url), 'utf8')).toContain(`\n## ${PROTOCOL_VERSION}\n`);
});

test('the fingerprint sees a shape change and ignores prose', () => {
  const of = (s: z.ZodType) => hashOf(z.toJSONSchema(s));
  const base = z.object({ description: z.string(), n: z.int() });
  expect(of(base.describe('a thing'))).toBe(of(base));
  expect(of(z.object({ description: z.string().describe('words'), n: z.int() }))).toBe(of(base));
  expect(of(z.object({ description: z.string(), n: z.int().optional() }))).not.toBe(of(base));
  expect(of(z.object({ description: z.string(), n: z.number() }))).not.toBe(of(base));
  expect(canonical({ b: 1, a: { description: 'x', properties: { description: { type: 'string' } } } })).toEqual({
    a: { properties: { description: { type: 'string' } } },
    b: 1,
  });
});
