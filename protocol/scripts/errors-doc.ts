/**
 * Writes protocol/ERRORS.md from the schemas in protocol/errors.ts: `npm run docs:errors`.
 * test/unit/errors-doc.test.ts fails when the file is not what this writes.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import prettier from 'prettier';
import { z } from 'zod';
import { CheckoutProblem, ErrorCodes, InputIssue, errors } from '../errors.js';

export const ERRORS_MD = fileURLToPath(new URL('../ERRORS.md', import.meta.url));

interface Schema {
  type?: string;
  format?: string;
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  description?: string;
}

const literal = (v: unknown) => (typeof v === 'string' ? `'${v}'` : String(v));

/** Bounds worth telling: not the safe-integer range every integer has. */
function bounds(s: Schema): string {
  const min = s.minimum !== undefined && s.minimum > Number.MIN_SAFE_INTEGER ? ` ≥ ${s.minimum}` : '';
  const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? ` ≤ ${s.maximum}` : '';
  return min + max;
}

/** A JSON Schema as a short TypeScript-like type. */
function typeOf(s: Schema): string {
  if (s.anyOf) {
    // Enums side by side read as one: each value once.
    const parts = s.anyOf.flatMap((branch) => (branch.enum ? branch.enum.map(literal) : [typeOf(branch)]));
    return [...new Set(parts)].join(' | ');
  }
  if (s.const !== undefined) return literal(s.const);
  if (s.enum) return s.enum.map(literal).join(' | ');
  switch (s.type) {
    case 'object': {
      const fields = Object.entries(s.properties ?? {}).map(([k, v]) => `${k}${s.required?.includes(k) ? '' : '?'}: ${typeOf(v)}`);
      return `{ ${fields.join(', ')} }`;
    }
    case 'array': {
      const item = typeOf(s.items ?? {});
      return /[ |]/.test(item) && !item.startsWith('{') ? `(${item})[]` : `${item}[]`;
    }
    case 'string':
      return s.format ?? 'string';
    case 'integer':
      return `integer${bounds(s)}`;
    case undefined:
      return 'unknown';
    default:
      return s.type;
  }
}

const render = (s: z.ZodType) => typeOf(z.toJSONSchema(s, { io: 'output', unrepresentable: 'any' }) as Schema);

/** Shapes that several codes carry, written out once and named elsewhere. */
const SHAPES = { InputIssue, CheckoutProblem };
const named = (type: string) => Object.entries(SHAPES).reduce((t, [name, s]) => t.replaceAll(render(s), name), type);

/** The forms a code's details take: nested unions flattened, each with when it is sent. */
function forms(s: z.ZodType): Array<{ type: string; when: string | undefined }> {
  if (s instanceof z.ZodNever) return [];
  if (s instanceof z.ZodUnion) return (s.options as z.ZodType[]).flatMap(forms);
  return [{ type: named(render(s)), when: s.description }];
}

// GitHub's heading anchors: lowercase, underscores kept.
const anchor = (code: string) => code.toLowerCase();

/** The whole document, formatted as `npm run lint` wants it. */
export async function errorsMarkdown(): Promise<string> {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from protocol/errors.ts by `npm run docs:errors`; do not edit. -->',
    '',
    'A failed call answers `{ ok: false, error: { code, message, details? } }`. Clients branch on `code` (and on',
    '`details` where a code has several forms), never on `message`. `details` is typed by the code: in TypeScript',
    'checking `error.code` narrows `error.details` (`if (e.code === "LOCKED") e.details.retryInS`), and',
    '`errors[code].details` is the zod schema of each.',
    '',
    '| Code | Meaning |',
    '| --- | --- |',
    ...ErrorCodes.map((code) => `| [\`${code}\`](#${anchor(code)}) | ${errors[code].summary} |`),
    '',
  ];
  for (const code of ErrorCodes) {
    const details: z.ZodType = errors[code].details;
    // An optional schema's own description says what its absence means.
    const absent = details instanceof z.ZodOptional ? (details.description ?? '') : null;
    const all = forms(details instanceof z.ZodOptional ? (details.unwrap() as z.ZodType) : details);
    lines.push(`## ${code}`, '', errors[code].summary, '');
    if (all.length === 0) {
      lines.push('No details.', '');
      continue;
    }
    if (absent === null && all.length === 1) {
      lines.push(`\`details\`: \`${all[0]!.type}\`${all[0]!.when ? ` — ${all[0]!.when}` : ''}`, '');
      continue;
    }
    lines.push(absent === null ? '`details` is one of:' : '`details` is absent or one of:', '');
    for (const form of all) lines.push(`- \`${form.type}\`${form.when ? `: ${form.when}` : ''}`);
    if (absent !== null) lines.push(`- absent${absent ? `: ${absent.replace(/^absent:\s*/, '')}` : ''}`);
    lines.push('');
  }
  lines.push('## Shapes', '');
  for (const [name, s] of Object.entries(SHAPES)) lines.push(`- \`${name}\`: \`${render(s)}\``);
  lines.push('');
  const options = await prettier.resolveConfig(ERRORS_MD);
  return prettier.format(lines.join('\n'), { ...options, filepath: ERRORS_MD });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(ERRORS_MD, await errorsMarkdown());
  console.log(`wrote ${ERRORS_MD}`);
}
