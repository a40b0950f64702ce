import { expect, test } from 'vitest';
import { checkRawInput, nulIssues } from '../../server/rpc/raw-input.js';

const exactBytes = (input: unknown) => Buffer.byteLength(JSON.stringify(input) ?? '');

/** Inputs whose JSON the one-walk size must match to the byte: escapes, non-ASCII, surrogates, numbers, nesting. */
const inputs: unknown[] = [
  undefined,
  null,
  {},
  [],
  { a: 1 },
  { productId: '0190a0b0-1111-7000-8000-000000000000', quantity: 2 },
  { q: 'سكر', page: { limit: 20, cursor: null }, tags: ['a', 'b', ''] },
  { text: 'quote " backslash \\ newline \n tab \t bell \u0007' },
  { emoji: '😀 and a lone surrogate \ud800 here', 'key "quoted"': true, f: false },
  { n: [0, -0, 1.5, -3, 1e21, 1e-7, 123456789012345, Number.MAX_SAFE_INTEGER] },
  [[[[[[{ deep: [1, [2, [3]]] }]]]]]],
  { skipped: undefined, kept: 1 },
  [undefined, 1],
  { date: new Date(0) },
  JSON.parse('{"__proto__": {"x": 1}, "y": [true]}'),
  Object.assign(Object.create(null) as object, { a: 'b' }),
];

test('the one-walk check sizes an input exactly as its JSON, on either side of the limit', () => {
  for (const input of inputs) {
    const bytes = exactBytes(input);
    expect(checkRawInput(input, bytes).tooLarge, JSON.stringify(input)).toBe(false);
    if (bytes > 0) expect(checkRawInput(input, bytes - 1).tooLarge, JSON.stringify(input)).toBe(true);
  }
});

test('a large input is refused without walking all of it, and nesting deeper than the walk goes is sized exactly', () => {
  expect(checkRawInput({ text: 'x'.repeat(70 * 1024) }, 64 * 1024).tooLarge).toBe(true);
  expect(
    checkRawInput(
      Array.from({ length: 100_000 }, () => ({ a: 1 })),
      64 * 1024,
    ).tooLarge,
  ).toBe(true);
  let deep: unknown = 'end';
  for (let i = 0; i < 1000; i++) deep = [deep];
  expect(checkRawInput(deep, exactBytes(deep)).tooLarge).toBe(false);
  expect(checkRawInput(deep, exactBytes(deep) - 1).tooLarge).toBe(true);
});

test('NULs in values and keys are reported with their paths as the full scan reports them', () => {
  const input = { name: 'a\u0000b', list: ['ok', 'n\u0000'], ['k\u0000']: 1, nested: { x: { y: '\u0000' } } };
  expect(checkRawInput(input, 1e6)).toEqual({ tooLarge: false, nul: nulIssues(input) });
  expect(checkRawInput(input, 1e6).nul.map((i) => i.path)).toEqual(['k\u0000', 'name', 'list.1', 'nested.x.y']);
  expect(checkRawInput({ clean: ['a', { b: 'c' }] }, 1e6)).toEqual({ tooLarge: false, nul: [] });
  // Too large wins over a NUL, as the size is checked first.
  expect(checkRawInput({ a: '\u0000'.repeat(100) }, 50)).toEqual({ tooLarge: true, nul: [] });
});
