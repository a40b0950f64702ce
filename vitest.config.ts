import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // CI derives its closing line from this file.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
  },
});
