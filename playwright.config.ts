import { defineConfig } from '@playwright/test';
import { launchOptions } from './scripts/chromium.mjs';

const port = Number(process.env.E2E_PORT ?? 5183);

export default defineConfig({
  testDir: 'test/e2e',
  timeout: 60_000,
  retries: 0,
  workers: 1,
  reporter: 'list',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    launchOptions: launchOptions(),
  },
  webServer: {
    // The package test loads dist/, so build it first.
    command: `npm run build --silent && npx vite --host 127.0.0.1 --port ${port} --strictPort`,
    url: `http://127.0.0.1:${port}/demo/`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
  },
});
