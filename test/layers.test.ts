import { createRequire } from 'node:module';
import { cruise, type IReporterOutput } from 'dependency-cruiser';
import { expect, test } from 'vitest';

const config = createRequire(import.meta.url)('../.dependency-cruiser.cjs') as { forbidden: unknown[]; options: Record<string, unknown> };

test('no import circle, the RPC layer imports no domain, protocol/ imports neither server nor database', async () => {
  const result: IReporterOutput = await cruise(['server', 'protocol', 'db'], {
    ...config.options,
    validate: true,
    ruleSet: { forbidden: config.forbidden },
  } as never);
  const output = result.output as { summary: { violations: Array<{ rule: { name: string }; from: string; to: string; cycle?: Array<{ name: string }> }> } };
  const violations = output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.cycle ? v.cycle.map((c) => c.name).join(' → ') : v.to}`);
  expect(violations).toEqual([]);
}, 60_000);
