/**
 * The wire's fingerprint: a hash of every event's input and result, every push's data, and every error
 * code's details, as JSON Schema without the prose (summaries and descriptions are no wire change).
 * protocol/wire.json records it with the version it belongs to; test/unit/protocol-version.test.ts fails
 * when the wire changes and the record does not, so a wire change cannot land without its version.
 *
 *   npm run protocol:fingerprint                   after bumping protocol/package.json's version
 *   npm run protocol:fingerprint -- --same-version a change folded into a version not yet released
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { errors } from '../errors.js';
import { events, pushes } from '../index.js';
import { PROTOCOL_VERSION } from '../version.js';

export const WIRE_JSON = fileURLToPath(new URL('../wire.json', import.meta.url));

export interface WireRecord {
  version: string;
  sha256: string;
}

const PROSE = new Set(['description', 'title', 'examples']);

/** Object keys sorted and prose dropped, so only the shape is hashed. */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value).filter(([k, v]) => !(PROSE.has(k) && typeof v !== 'object'));
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, canonical(v)]));
}

const schema = (s: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(s, { io, unrepresentable: 'any' });

export function fingerprint(): string {
  const wire = {
    events: Object.fromEntries(Object.entries(events).map(([name, e]) => [name, { input: schema(e.input, 'input'), result: schema(e.result, 'output') }])),
    pushes: Object.fromEntries(Object.entries(pushes).map(([name, p]) => [name, { data: schema(p.data, 'output'), stored: p.stored }])),
    errors: Object.fromEntries(Object.entries(errors).map(([code, e]) => [code, schema(e.details, 'output')])),
  };
  return hashOf(wire);
}

export const hashOf = (wire: unknown): string =>
  createHash('sha256')
    .update(JSON.stringify(canonical(wire)))
    .digest('hex');

export async function recorded(): Promise<WireRecord> {
  return JSON.parse(await readFile(WIRE_JSON, 'utf8')) as WireRecord;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const current = fingerprint();
  const before = await recorded().catch(() => null);
  if (before && before.sha256 !== current && before.version === PROTOCOL_VERSION && !process.argv.includes('--same-version')) {
    console.error(
      `the wire changed but @lilium/protocol is still ${PROTOCOL_VERSION}: bump protocol/package.json's version and add its entry to protocol/CHANGELOG.md` +
        ' (or pass --same-version for a change folded into a version not yet released)',
    );
    process.exit(1);
  }
  await writeFile(WIRE_JSON, `${JSON.stringify({ version: PROTOCOL_VERSION, sha256: current } satisfies WireRecord, null, 2)}\n`);
  console.log(`protocol/wire.json: ${PROTOCOL_VERSION} ${current}`);
}
