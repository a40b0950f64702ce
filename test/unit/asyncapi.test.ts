import { Parser, DiagnosticSeverity } from '@asyncapi/parser';
import { expect, test } from 'vitest';
import { z } from 'zod';
import { asyncApiDocument } from '../../protocol/asyncapi.js';

const info = { version: '1.0.0', publicUrl: 'http://localhost:3000' };

async function problemsOf(doc: unknown): Promise<string[]> {
  const { diagnostics } = await new Parser().parse(JSON.stringify(doc));
  return diagnostics.filter((d) => d.severity <= DiagnosticSeverity.Warning).map((d) => `${d.code} ${d.message} at ${d.path.join('/')}`);
}

test('a schema used as input and as output whose forms differ is two components, and so is a schema that refers to it', async () => {
  // Reading, `limit` may be left out (it has a default); written, it is always there.
  const Filter = z.strictObject({ limit: z.int().min(1).max(100).default(20) }).meta({ id: 'Filter' });
  const Query = z.strictObject({ filter: Filter }).meta({ id: 'Query' });
  const doc = asyncApiDocument(info, {
    events: { 'things:find': { summary: 'Find things.', roles: 'signedIn', input: z.strictObject({ query: Query }), result: z.object({ query: Query }) } },
    pushes: {},
  });
  const schemas = doc.components.schemas;
  expect(schemas.Filter).toEqual({
    type: 'object',
    properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
    required: ['limit'],
    additionalProperties: false,
  });
  expect(schemas.FilterInput).toEqual({
    type: 'object',
    properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
    additionalProperties: false,
  });
  expect(schemas.Query).toEqual({
    type: 'object',
    properties: { filter: { $ref: '#/components/schemas/Filter' } },
    required: ['filter'],
    additionalProperties: false,
  });
  expect(schemas.QueryInput).toEqual({
    type: 'object',
    properties: { filter: { $ref: '#/components/schemas/FilterInput' } },
    required: ['filter'],
    additionalProperties: false,
  });
  expect(schemas.ThingsFindInput).toMatchObject({ properties: { query: { $ref: '#/components/schemas/QueryInput' } } });
  expect(schemas.ThingsFindResult).toMatchObject({ properties: { query: { $ref: '#/components/schemas/Query' } } });
  expect(await problemsOf(doc)).toEqual([]);
});

test('a schema used both ways in the same form is one component', () => {
  const Label = z.strictObject({ text: z.string() }).meta({ id: 'Label' });
  const doc = asyncApiDocument(info, {
    events: { 'labels:echo': { summary: 'Echo a label.', roles: 'anyone', input: z.strictObject({ label: Label }), result: Label } },
    pushes: {},
  });
  expect(Object.keys(doc.components.schemas).filter((name) => name.startsWith('Label'))).toEqual(['Label', 'LabelsEchoAck', 'LabelsEchoInput', 'LabelsEchoOk']);
});

test('a recursive schema without a name is refused, naming what to do', () => {
  interface Tree {
    children: Tree[];
  }
  const Tree: z.ZodType<Tree> = z.lazy(() => z.object({ children: z.array(Tree) }));
  expect(() =>
    asyncApiDocument(info, {
      events: { 'trees:get': { summary: 'A tree.', roles: 'signedIn', input: z.strictObject({}), result: z.object({ root: Tree }) } },
      pushes: {},
    }),
  ).toThrow('AsyncAPI: a recursive schema in protocol/ has no name; export it');
});

test('two schemas given one name are refused', () => {
  const doc = () =>
    asyncApiDocument(info, {
      events: { 'a:b': { summary: 'One.', roles: 'signedIn', input: z.strictObject({}), result: z.object({ x: z.string().meta({ id: 'ABResult' }) }) } },
      pushes: {},
    });
  expect(doc).toThrow('AsyncAPI: two schemas are named ABResult');
});

test('the server is the public URL: wss for https, and the path it is served under', () => {
  const doc = asyncApiDocument({ version: '1.0.0', publicUrl: 'https://api.example.com/lilium' }, { events: {}, pushes: {} });
  expect(doc.servers.lilium).toMatchObject({ host: 'api.example.com', protocol: 'wss', pathname: '/lilium/socket.io/' });
});
