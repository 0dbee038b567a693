import { defineConfig } from '@playwright/test';
import path from 'node:path';

const baseURL = process.env.BASE_URL ?? 'http://localhost:8080';

/** The server binary the journeys call for administration (`certdesk admin create`). */
export const certdeskBin = process.env.CERTDESK_BIN ?? path.join(__dirname, '..', 'target', 'debug', 'certdesk');

/**
 * The environment the test server runs with, so the CLI the journeys run reaches the same
 * database and data directory. `cargo xtask test` starts the server; it passes these on to
 * Playwright (`CERTDESK_DATA_DIR`, and `DATABASE_URL` when the server uses PostgreSQL).
 */
export const serverEnv: Record<string, string> = {
  CERTDESK_PUBLIC_URL: process.env.CERTDESK_PUBLIC_URL ?? baseURL,
  CERTDESK_DEV: process.env.CERTDESK_DEV ?? 'true',
  ...Object.fromEntries(
    ['DATABASE_URL', 'CERTDESK_DATA_DIR', 'CERTDESK_AUDIT_KEY', 'CERTDESK_CA_PASSPHRASE']
      .filter((k) => process.env[k])
      .map((k) => [k, process.env[k] as string]),
  ),
};

/** Debian's Chromium, never a downloaded browser. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that keep Chromium quiet on a closed network (also for a second browser a journey
 * starts itself, such as the phone with a fake camera). */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results/artifacts',
  reporter: [['list']],
  workers: 1,
  retries: 0,
  timeout: 30_000,
  use: {
    baseURL,
    locale: 'zh-CN',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: chromiumPath,
      args: chromiumArgs,
    },
  },
});
