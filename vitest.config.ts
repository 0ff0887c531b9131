import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Engines run as child processes on 2 cores: files in parallel would starve each other.
    fileParallelism: true,
    maxWorkers: 2,
    env: { TZ: 'UTC' },
  },
});
