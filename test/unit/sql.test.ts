import { expect, test } from 'vitest';
import { likeContaining, sql } from '../../db/sql.js';

test('values are parameters, numbered in order, and nested fragments are renumbered where they land', () => {
  const scope = sql`o.zone_id = ANY(${['z1', 'z2']}::uuid[])`;
  const after = sql`(o.created_at, o.id) < (${'2026-11-25'}::timestamptz, ${'id-9'}::uuid)`;
  const q = sql`SELECT * FROM orders o WHERE o.shop_id = ${'shop-1'} AND ${scope} AND ${after} LIMIT ${21}`;
  expect(q.compile()).toEqual({
    text: 'SELECT * FROM orders o WHERE o.shop_id = $1 AND o.zone_id = ANY($2::uuid[]) AND (o.created_at, o.id) < ($3::timestamptz, $4::uuid) LIMIT $5',
    values: ['shop-1', ['z1', 'z2'], '2026-11-25', 'id-9', 21],
  });
});

test('input never becomes text: a value that looks like SQL stays a parameter', () => {
  expect(sql`SELECT ${'1; DROP TABLE users; --'} AS x`.compile()).toEqual({ text: 'SELECT $1 AS x', values: ['1; DROP TABLE users; --'] });
});

test('join, and, raw and empty compose', () => {
  expect(sql.join([sql`a = ${1}`, sql`b = ${2}`], ' OR ').compile()).toEqual({ text: 'a = $1 OR b = $2', values: [1, 2] });
  expect(sql`WHERE ${sql.and([sql`a = ${1}`, sql`b = ${2}`])}`.compile()).toEqual({ text: 'WHERE a = $1 AND b = $2', values: [1, 2] });
  expect(sql`WHERE ${sql.and([])}`.compile()).toEqual({ text: 'WHERE true', values: [] });
  expect(sql`ORDER BY ${sql.raw('price_minor')} DESC${sql.empty}`.compile()).toEqual({ text: 'ORDER BY price_minor DESC', values: [] });
  expect(sql.join([]).compile()).toEqual({ text: '', values: [] });
});

test('a LIKE pattern matches the text as typed', () => {
  expect(likeContaining('50%_off\\')).toBe('%50\\%\\_off\\\\%');
});

test('a prepared statement is named by its text: the same text the same name, another text another name', () => {
  const byId = (id: string) => sql`SELECT name FROM users WHERE id = ${id}`.prepared().compile();
  const first = byId('u1');
  expect(first).toEqual({ text: 'SELECT name FROM users WHERE id = $1', values: ['u1'], name: expect.stringMatching(/^lilium_[\w-]{20}$/) });
  expect(byId('u2').name).toBe(first.name);
  expect(sql`SELECT email FROM users WHERE id = ${'u1'}`.prepared().compile().name).not.toBe(first.name);
  expect('name' in sql`SELECT name FROM users WHERE id = ${'u1'}`.compile()).toBe(false);
});

test("a library's numbered statement lands renumbered, and a placeholder used twice stays one parameter", () => {
  const insert = sql.numbered('INSERT INTO job (data, start_after) VALUES ($2, CAST($1 AS timestamptz)) WHERE $1 IS NOT NULL', ['2026-12-02', '{}']);
  expect(sql`WITH w AS (SELECT ${'x'}) ${insert}`.compile()).toEqual({
    text: 'WITH w AS (SELECT $1) INSERT INTO job (data, start_after) VALUES ($2, CAST($3 AS timestamptz)) WHERE $3 IS NOT NULL',
    values: ['x', '{}', '2026-12-02'],
  });
});
