import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    testTimeout: 120_000,
    pool: 'forks',
    // each run gets its own temp dir, and fails if a test leaves earshot-* files in it
    globalSetup: ['scripts/test-temp-dir.ts'],
  },
});
