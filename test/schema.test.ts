import { afterAll, beforeAll, expect, test } from 'vitest';
import { tables } from '../db/tables.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

// Tables that belong to libraries, not to a row type of ours: TypeORM's in public; pg-boss keeps all of its own
// in the schema `pgboss`, which it creates and migrates itself, so only `public` is compared below.
const FOREIGN = ['migrations'];

test('every table has one declared row type, and each declaration matches the migrated columns exactly', async () => {
  const rows = await h.q<{ table_name: string; column_name: string; udt_name: string; is_nullable: 'YES' | 'NO' }>(
    `SELECT table_name, column_name, udt_name, is_nullable FROM information_schema.columns
      WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
  );
  const migrated = new Map<string, string[]>();
  for (const r of rows) {
    if (FOREIGN.includes(r.table_name)) continue;
    const cols = migrated.get(r.table_name) ?? [];
    cols.push(`${r.column_name} ${r.udt_name}${r.is_nullable === 'YES' ? ' null' : ''}`);
    migrated.set(r.table_name, cols);
  }
  const declared = new Map(tables.map((t) => [t.name, Object.entries(t.columns).map(([name, c]) => `${name} ${c.type}${c.nullable ? ' null' : ''}`)] as const));
  expect(tables.length).toBe(declared.size); // one declaration per table
  expect([...declared.keys()].sort()).toEqual([...migrated.keys()].sort());
  for (const [name, cols] of migrated) expect({ table: name, columns: declared.get(name) }).toEqual({ table: name, columns: cols });
});

test('the job queue keeps its tables in its own schema, beside ours', async () => {
  const schemas = await h.q<{ schema: string }>(
    `SELECT DISTINCT table_schema AS schema FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
  );
  expect(schemas.map((s) => s.schema)).toEqual(['pgboss', 'public']);
  const [{ queues }] = (await h.q<{ queues: string[] }>(`SELECT array_agg(name ORDER BY name) AS queues FROM pgboss.queue`)) as [{ queues: string[] }];
  expect(queues).toEqual(expect.arrayContaining(['delivery', 'delivery-dead', 'import', 'import-dead']));
});
