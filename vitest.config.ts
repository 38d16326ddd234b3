import { defineConfig } from 'vitest/config';

// One run for every test of the monorepo: unit tests beside the code (src/**/*.test.ts) and the
// end-to-end suite (tests/e2e), which drives real processes through HTTP/SSE/WS.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'tests/e2e/**/*.test.ts', 'bench/src/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e files each start their own control plane; two cores, so keep parallelism modest
    maxWorkers: 2,
    reporters: ['default'],
  },
});
