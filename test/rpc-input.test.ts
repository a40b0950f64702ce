import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { z } from 'zod';
import { call, RpcError } from '../protocol/client.js';
import type { Registration } from '../server/rpc/rpc.js';
import { startHarness, type Harness, type Session } from './support/harness.js';

const SECRET = `secret-bound-value-${randomUUID()}`;

/** Test-only events whose queries fail inside the database, with a value bound to them. */
const failing: Registration[] = [
  {
    event: 'test:missing-table',
    spec: { summary: 'a statement on a table that does not exist', roles: 'signedIn', input: z.strictObject({}), result: z.object({}) },
    handler: (ctx) => ctx.deps.db.query('INSERT INTO no_such_table (secret) VALUES ($1)', [SECRET]),
  },
  {
    event: 'test:bad-uuid',
    spec: { summary: 'a value that does not fit its column type', roles: 'signedIn', input: z.strictObject({ id: z.string() }), result: z.object({}) },
    handler: (ctx, input: { id: string }) => ctx.deps.db.query('SELECT $1::uuid AS id', [input.id]),
  },
];

function failure(p: Promise<unknown>) {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: RpcError) => ({ code: e.code, message: e.message, details: e.details }),
  );
}

let h: Harness;
let admin: Session;
beforeAll(async () => {
  h = await startHarness({ extraHandlers: failing });
  admin = await h.login('admin@demo.lilium');
});
afterAll(() => h.close());

test('a NUL in any string of users:create is BAD_REQUEST with issues naming each path, and nothing reaches the database or the error log', async () => {
  const before = h.logs.length;
  const email = `nul-${randomUUID()}@example.com`;
  const refused = await failure(
    call(admin.socket, 'users:create', { role: 'DRIVER', name: 'Bad\u0000Name', email, password: 'long-enough-\u0000-password', zoneIds: [] }),
  );
  expect(refused).toEqual({
    code: 'BAD_REQUEST',
    message: 'invalid input for users:create',
    details: [
      { path: 'name', code: 'invalid_format', message: 'must not contain NUL characters' },
      { path: 'password', code: 'invalid_format', message: 'must not contain NUL characters' },
    ],
  });
  expect(await h.q('SELECT 1 FROM users WHERE email = $1', [email])).toEqual([]);
  expect(h.logs.slice(before).filter((l) => (l.level as number) >= 50)).toEqual([]);
});

test('a NUL is refused in search terms, labels and logins of every event alike', async () => {
  const nul = { path: expect.any(String), code: 'invalid_format', message: 'must not contain NUL characters' };
  expect(await failure(call(admin.socket, 'products:list', { q: 'sug\u0000ar' }))).toEqual({
    code: 'BAD_REQUEST',
    message: 'invalid input for products:list',
    details: [{ ...nul, path: 'q' }],
  });
  expect(await failure(call(admin.socket, 'zones:create', { name: { ar: 'منطقة', en: 'Zone\u0000' } } as never))).toMatchObject({
    code: 'BAD_REQUEST',
    details: [{ ...nul, path: 'name.en' }],
  });
  const anonymous = await h.connect();
  expect(await failure(call(anonymous, 'auth:login', { app: 'dashboard', login: 'admin@demo.lilium\u0000', password: 'whatever-password' }))).toEqual({
    code: 'BAD_REQUEST',
    message: 'invalid input for auth:login',
    details: [{ ...nul, path: 'login' }],
  });
});

test('a value PostgreSQL refuses as data (SQLSTATE class 22) is BAD_REQUEST, not INTERNAL', async () => {
  const before = h.logs.length;
  expect(await failure(call(admin.socket, 'test:bad-uuid' as 'me:get', { id: 'not-a-uuid' } as never))).toEqual({
    code: 'BAD_REQUEST',
    message: 'a value in the input does not fit its field',
    details: { sqlState: '22P02' },
  });
  expect(h.logs.slice(before).filter((l) => (l.level as number) >= 50)).toEqual([]);
});

test('a database error is logged without the values bound to its statement', async () => {
  const refused = await failure(call(admin.socket, 'test:missing-table' as 'me:get', {} as never));
  expect(refused.code).toBe('INTERNAL');
  const requestId = /request (\S+)\)/.exec(refused.message)?.[1];
  const logged = h.logs.find((l) => l.requestId === requestId && l.level === 50);
  expect(logged?.err).toMatchObject({ message: expect.stringContaining('no_such_table') });
  expect(JSON.stringify(logged)).not.toContain(SECRET);
  expect(JSON.stringify(h.logs)).not.toContain(SECRET);
});
