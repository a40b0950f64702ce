import { randomBytes } from 'node:crypto';
import { defineConfig } from 'vitest/config';

// Each run has its own template and databases, so two runs on one machine never touch each other's.
const run = (process.env.LILIUM_TEST_RUN ??= randomBytes(3).toString('hex'));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    env: { LILIUM_TEST_RUN: run },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // CI derives its closing line from this file.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
  },
});
