import { defineConfig } from 'vitest/config';

const include = ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'tests/e2e/**/*.test.ts', 'bench/src/**/*.test.ts'];
// Three replicas, haproxy and hundreds of sessions take both cores: that file runs after the
// others (a later group), so its load cannot stretch the timing-sensitive chaos tests beside it.
const alone = ['tests/e2e/ha.test.ts'];
// A cold OpenClaw gateway takes both cores for ~20 s: alone too, so its start cannot starve the
// microVM (emulated CPU) or chaos tests' timing beside it.
const openclaw = ['tests/e2e/openclaw.test.ts'];

// One run for every test of the monorepo: unit tests beside the code (src/**/*.test.ts) and the
// end-to-end suite (tests/e2e), which drives real processes through HTTP/SSE/WS.
export default defineConfig({
  test: {
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e files each start their own control plane; two cores, so keep parallelism modest
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'suite', include, exclude: ['**/node_modules/**', '**/dist/**', ...alone, ...openclaw] } },
      { extends: true, test: { name: 'ha', include: alone, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'openclaw', include: openclaw, sequence: { groupOrder: 2 } } },
    ],
  },
});
