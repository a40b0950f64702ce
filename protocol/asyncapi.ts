import { z } from 'zod';
import { ackOf } from './errors.js';
import { Envelope } from './feed.js';
import * as protocol from './index.js';
import { events, pushes } from './index.js';
import { isIdempotent, type Access, type EventSpec, type PushSpec } from './spec.js';

/*
 * The AsyncAPI 3 document, derived from `protocol/` alone, seen from a client: it `send`s each event
 * and gets the ack as the reply, and it `receive`s each push.
 *
 * Every schema has a name and is written once, under `components.schemas`:
 * - a zod schema exported from `protocol/` is named by its export (`export const Order = …` is
 *   `Order`), or by `.meta({ id })` when it carries one;
 * - an event's input and result that are not named otherwise are `<Event>Input` and `<Event>Result`
 *   (`auth:login` → `AuthLoginInput`), its ack `<Event>Ack`, either `<Event>Ok` or `Failure`; a
 *   push's data `<Push>Push` and a stored push's envelope `<Push>Envelope`.
 * A recursive schema must be named, so that it refers to itself by `$ref`.
 */

type Json = { [key: string]: unknown };
const REF = '#/components/schemas/';

/** `users:password-reset:confirm` → `UsersPasswordResetConfirm` */
const pascal = (name: string) =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');

function rolesText(roles: Access): string {
  if (roles === 'anyone') return 'Anyone, also before signing in.';
  if (roles === 'signedIn') return 'Any signed-in user.';
  return `Roles: ${roles.join(', ')}.`;
}

/** Room names as code: a description is Markdown, where `<id>` would be taken for a tag. */
const rooms = (to: string) => to.replace(/[\w:]*<[^>]*>/g, (room) => `\`${room}\``);

/** Names every schema the document shows; a name given twice to different schemas is a mistake in `protocol/`. */
class Names {
  readonly registry = z.registry<{ id: string }>();

  add(schema: z.ZodType, id: string): void {
    const taken = this.registry._idmap.get(id);
    if (taken && taken !== schema) throw new Error(`AsyncAPI: two schemas are named ${id}`);
    if (!this.registry.has(schema)) this.registry.add(schema, { id });
  }

  /** The name of `schema`, giving it `fallback` when it has none yet. */
  of(schema: z.ZodType, fallback: string): string {
    this.add(schema, this.registry.get(schema)?.id ?? fallback);
    return this.registry.get(schema)!.id;
  }
}

function convert(names: Names, io: 'input' | 'output'): Record<string, Json> {
  const { schemas } = z.toJSONSchema(names.registry, { io, target: 'draft-07', uri: (id) => REF + id });
  // Zod writes an unnamed recursive schema into a `__shared` file, which an AsyncAPI document cannot hold.
  if (schemas.__shared) throw new Error('AsyncAPI: a recursive schema in protocol/ has no name; export it');
  const out: Record<string, Json> = {};
  for (const [id, { $schema: _, $id: __, ...schema }] of Object.entries(schemas)) out[id] = bareRefs(schema) as Json;
  return out;
}

/** Draft-07 output wraps a lone reference (an optional `Id`) as `{ allOf: [ref] }`; documentation tools read the reference better. */
function bareRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(bareRefs);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [only] = entries;
  if (entries.length === 1 && only![0] === 'allOf' && Array.isArray(only![1]) && only![1].length === 1) return bareRefs(only![1][0]);
  return Object.fromEntries(entries.map(([k, v]) => [k, bareRefs(v)]));
}

/** Applies `visit` to every `$ref` that names a component, returning the rewritten copy. */
function mapRefs(value: unknown, visit: (id: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => mapRefs(v, visit));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' && v.startsWith(REF) ? REF + visit(v.slice(REF.length)) : mapRefs(v, visit),
    ]),
  );
}

function refsOf(schema: Json): Set<string> {
  const found = new Set<string>();
  mapRefs(schema, (id) => (found.add(id), id));
  return found;
}

function reachable(schemas: Record<string, Json>, roots: string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const next of refsOf(schemas[id]!)) visit(next);
  };
  roots.forEach(visit);
  return seen;
}

/**
 * The schemas reachable from the payloads, each once. Inputs are converted as zod reads them, the rest as
 * it writes them; a schema used both ways whose two forms differ (a default makes a field optional on input)
 * is written twice, its input form as `<Name>Input`, and so is every schema used both ways that refers to one.
 */
function componentSchemas(names: Names, inputRoots: string[], outputRoots: string[]): Record<string, Json> {
  const input = convert(names, 'input');
  const output = convert(names, 'output');
  const inputSide = reachable(input, inputRoots);
  const outputSide = reachable(output, outputRoots);
  const both = [...inputSide].filter((id) => outputSide.has(id));
  const split = new Set(both.filter((id) => JSON.stringify(input[id]) !== JSON.stringify(output[id])));
  for (let grew = true; grew;) {
    grew = false;
    for (const id of both)
      if (!split.has(id) && [...refsOf(input[id]!)].some((ref) => split.has(ref))) {
        split.add(id);
        grew = true;
      }
  }
  const inputName = (id: string) => (split.has(id) ? `${id}Input` : id);
  const components: Record<string, Json> = {};
  for (const id of [...outputSide].sort()) components[id] = output[id]!;
  for (const id of [...inputSide].sort()) {
    const name = inputName(id);
    const schema = mapRefs(input[id], inputName) as Json;
    if (components[name] && JSON.stringify(components[name]) !== JSON.stringify(schema)) throw new Error(`AsyncAPI: two schemas are named ${name}`);
    components[name] = schema;
  }
  return Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b)));
}

function server(publicUrl: string) {
  const url = new URL(publicUrl);
  return {
    host: url.host,
    protocol: url.protocol === 'https:' ? 'wss' : 'ws',
    pathname: `${url.pathname.replace(/\/$/, '')}/socket.io/`,
    description:
      'Socket.IO 4, default namespace. Authenticate in the handshake, `io(url, { auth: { token: accessToken } })`, or call `auth:login` once connected.',
  };
}

const DESCRIPTION = `The Socket.IO events of Lilium, the backend of a B2B ordering platform paid cash on delivery.

- **Calls** (the *send* operations) are \`socket.emit(event, input, ack)\`. The ack, the reply, is \`{ ok: true, data }\` or a \`Failure\`, \`{ ok: false, error: { code, message, details? } }\`: branch on \`code\`, never on \`message\`. Input that does not match the schema is \`BAD_REQUEST\` and changes nothing.
- **Roles**: each call names who may make it (also in \`x-roles\`); anyone else gets \`FORBIDDEN\`, and an unauthenticated socket \`UNAUTHENTICATED\`. A call marked idempotent takes an \`idempotencyKey\`: a retry with the same key replays the first answer.
- **Pushes** (the *receive* operations) go to rooms the server puts each socket in. A stored push comes in an envelope \`{ seq, event, at, data }\` and can be fetched again with \`feed:sync\` from the last \`seq\` seen.
- Typed TypeScript calls: \`call(socket, event, input)\` from \`protocol/client.ts\`.`;

export interface Contract {
  events: Record<string, EventSpec>;
  pushes: Record<string, PushSpec>;
}

/** The AsyncAPI 3 document of `protocol/` (or of `contract`), naming `publicUrl` (where clients reach the deployment) as its server. */
export function asyncApiDocument(info: { version: string; publicUrl: string }, contract: Contract = { events, pushes }) {
  const names = new Names();
  for (const [id, schema] of z.globalRegistry._idmap) if (schema instanceof z.ZodType) names.add(schema, id);
  for (const [id, value] of Object.entries(protocol)) if (/^[A-Z]/.test(id) && value instanceof z.ZodType) names.of(value, id);

  const channels: Record<string, Json> = {};
  const operations: Record<string, Json> = {};
  const inputRoots: string[] = [];
  const outputRoots: string[] = [];
  const payload = (id: string, roots: string[]) => (roots.push(id), { payload: { $ref: REF + id } });
  const tags = (name: string) => [{ name: name.split(':')[0]! }];

  for (const [name, spec] of Object.entries(contract.events)) {
    const base = pascal(name);
    names.of(spec.result, `${base}Result`);
    const ackSchema = ackOf(spec.result);
    names.of(ackSchema.options[0], `${base}Ok`);
    const ack = names.of(ackSchema, `${base}Ack`);
    channels[name] = {
      address: name,
      messages: { input: payload(names.of(spec.input, `${base}Input`), inputRoots), ack: payload(ack, outputRoots) },
    };
    operations[name] = {
      action: 'send',
      channel: { $ref: `#/channels/${name}` },
      summary: spec.summary,
      description: rolesText(spec.roles) + (isIdempotent(spec) ? ' Idempotent.' : ''),
      'x-roles': spec.roles,
      tags: tags(name),
      messages: [{ $ref: `#/channels/${name}/messages/input` }],
      reply: { channel: { $ref: `#/channels/${name}` }, messages: [{ $ref: `#/channels/${name}/messages/ack` }] },
    };
  }
  for (const [name, spec] of Object.entries(contract.pushes)) {
    const base = pascal(name);
    names.of(spec.data, `${base}Push`);
    const sent = spec.stored ? names.of(Envelope.extend({ data: spec.data }), `${base}Envelope`) : names.of(spec.data, `${base}Push`);
    channels[name] = { address: name, messages: { push: payload(sent, outputRoots) } };
    operations[name] = {
      action: 'receive',
      channel: { $ref: `#/channels/${name}` },
      summary: spec.summary,
      description: `To ${rooms(spec.to)}.${spec.stored ? ' Stored: again through `feed:sync`.' : ''}`,
      tags: tags(name),
      messages: [{ $ref: `#/channels/${name}/messages/push` }],
    };
  }

  return {
    asyncapi: '3.1.0',
    info: { title: 'Lilium', version: info.version, description: DESCRIPTION },
    defaultContentType: 'application/json',
    servers: { lilium: server(info.publicUrl) },
    channels,
    operations,
    components: { schemas: componentSchemas(names, inputRoots, outputRoots) },
  };
}
