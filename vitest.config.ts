import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/fixtures/**', 'node_modules/**'],
    testTimeout: 240_000,
    hookTimeout: 300_000,
    // Two test files at a time even on two cores: much of a test's time is spent waiting on
    // a child process or on disk, which the other file can use.
    maxWorkers: 2,
  },
});
