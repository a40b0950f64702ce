import type { InputIssue } from '../../protocol/errors.js';

const MAX_ISSUES = 20;
/** Deeper inputs (no event's schema has one) are left to the exact but slower checks below. */
const MAX_DEPTH = 32;

/** What is wrong with a call's raw input before its schema sees it. */
export interface RawInputCheck {
  /** Its JSON is larger than the limit. */
  tooLarge: boolean;
  /** Zod-style issues for every string, value or key, that holds a NUL character. */
  nul: InputIssue[];
}

const FINE: RawInputCheck = Object.freeze({ tooLarge: false, nul: Object.freeze([]) as unknown as InputIssue[] });
const TOO_LARGE: RawInputCheck = Object.freeze({ tooLarge: true, nul: FINE.nul });

/**
 * The size of the input's JSON and whether it holds a NUL anywhere, in one walk. PostgreSQL cannot store a NUL
 * in text, so no event may accept one; checking the raw input once here covers every event's schema. The walk
 * answers for plain JSON values (all a call's input is, once Socket.IO has decoded it) without building the JSON;
 * anything else (binary, nesting deeper than MAX_DEPTH) and inputs with a NUL take the exact, slower checks.
 */
export function checkRawInput(input: unknown, maxBytes: number): RawInputCheck {
  sawNul = false;
  const bytes = jsonBytes(input, 0, maxBytes);
  if (Number.isNaN(bytes)) return slowCheck(input, maxBytes);
  if (bytes > maxBytes) return TOO_LARGE;
  return sawNul ? { tooLarge: false, nul: nulIssues(input) } : FINE;
}

// Set by the walk, which is synchronous: no other call can run between its reset and its read.
let sawNul = false;

/** Anything but printable ASCII that JSON leaves as it is: the string's JSON is then one byte a character, in quotes. */
const NOT_PLAIN_ASCII = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;
/** Strings whose JSON is not the string in quotes, or that may hold a NUL (an escaped control character). */
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

function stringBytes(s: string): number {
  if (!NOT_PLAIN_ASCII.test(s)) return s.length + 2;
  if (!ESCAPED.test(s)) return Buffer.byteLength(s) + 2;
  if (s.includes('\u0000')) sawNul = true;
  return Buffer.byteLength(JSON.stringify(s));
}

/**
 * `Buffer.byteLength(JSON.stringify(value))`, or more than `budget` once past it, or NaN for what only
 * JSON.stringify itself can size (undefined or functions where JSON drops them, objects that are not plain).
 */
function jsonBytes(value: unknown, depth: number, budget: number): number {
  switch (typeof value) {
    case 'string':
      return stringBytes(value);
    case 'number':
      return Number.isFinite(value) ? String(value).length : 4;
    case 'boolean':
      return value ? 4 : 5;
    case 'object':
      break;
    default:
      return Number.NaN;
  }
  if (value === null) return 4;
  if (depth >= MAX_DEPTH) return Number.NaN;
  if (Array.isArray(value)) {
    // Brackets and the commas between elements.
    let n = value.length ? value.length + 1 : 2;
    for (let i = 0; i < value.length && n <= budget; i++) n += jsonBytes(value[i], depth + 1, budget - n);
    return n;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return Number.NaN;
  // The opening brace, then per entry its key, a colon, its value and a comma (the last one's is the closing brace).
  let n = 1;
  let entries = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    entries++;
    n += stringBytes(key) + 2 + jsonBytes((value as Record<string, unknown>)[key], depth + 1, budget - n);
    if (!(n <= budget)) return n;
  }
  return entries ? n : 2;
}

function slowCheck(input: unknown, maxBytes: number): RawInputCheck {
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(input) ?? '');
  } catch {
    bytes = Number.POSITIVE_INFINITY;
  }
  if (bytes > maxBytes) return TOO_LARGE;
  const nul = nulIssues(input);
  return nul.length ? { tooLarge: false, nul } : FINE;
}

/** Zod-style issues for every NUL, with its path. Iterative, so a deeply nested input cannot exhaust the stack. */
export function nulIssues(input: unknown): InputIssue[] {
  const issues: InputIssue[] = [];
  const found = (path: string[]) => issues.push({ path: path.join('.'), code: 'invalid_format', message: 'must not contain NUL characters' });
  const stack: Array<[unknown, string[]]> = [[input, []]];
  while (stack.length && issues.length < MAX_ISSUES) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) found(path);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], [...path, String(i)]]);
    } else if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value).reverse()) {
        if (key.includes('\u0000')) found([...path, key]);
        stack.push([v, [...path, key]]);
      }
    }
  }
  return issues;
}
