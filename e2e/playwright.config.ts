import { defineConfig } from '@playwright/test';

// Debian's Chromium, never a downloaded browser. Flags keep it quiet on a closed network.
export default defineConfig({
  testDir: './tests',
  outputDir: './test-results/artifacts',
  reporter: [['list']],
  workers: 1,
  retries: 0,
  timeout: 30_000,
  use: {
    baseURL: process.env.BASE_URL ?? 'http://127.0.0.1:8080',
    locale: 'zh-CN',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
