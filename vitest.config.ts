import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Finds (or starts) the PostgreSQL and Chromium the tests use: test/setup/global.ts.
    globalSetup: ['./test/setup/global.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The first prints the reliability table (issue 5) when reliability tests ran. It comes before
    // vitest's own, so that the failures and the summary are the last lines of a run's output.
    reporters: ['./test/reliability/support/reporter.ts', 'default'],
  },
});
