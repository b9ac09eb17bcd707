import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { launchOptions } from './scripts/chromium.mjs';

export default defineConfig({
  optimizeDeps: { include: ['idb', 'comlink', 'msgpackr', 'fflate', 'fast-check', 'sql.js', 'hash-wasm'] },
  worker: { format: 'es' },
  test: {
    projects: [
      {
        extends: true,
        // Property tests run hundreds of histories: seconds alone, past the default 5 s when
        // the other suites load a 2-core machine (it happened in CI and locally).
        test: { name: 'unit', environment: 'node', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          testTimeout: 30_000,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({ launchOptions: launchOptions() }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
