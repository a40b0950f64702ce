import type { InputIssue } from '../../protocol/errors.js';

const MAX_ISSUES = 20;

/**
 * Zod-style issues for every string, value or key, that holds a NUL character. PostgreSQL cannot
 * store one in text, so no event may accept it; checking the raw input once here covers every
 * event's schema. Iterative, so a deeply nested input cannot exhaust the stack.
 */
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
