import { defineConfig } from 'vitest/config';

// Browser journeys: Vitest drives Debian's Chromium through playwright-core.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    // each run gets its own temp dir, and fails if a test leaves earshot-* files in it
    globalSetup: ['scripts/test-temp-dir.ts'],
  },
});
