import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The second prints the reliability table (issue 5) when reliability tests ran.
    reporters: ['default', './test/reliability/support/reporter.ts'],
  },
});
