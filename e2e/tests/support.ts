import { Page, expect } from '@playwright/test';

/** Screenshots kept as test output, one per page and language. */
export async function keepScreenshot(page: Page, name: string) {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true });
}

/** Fails the test on script errors and on anything the Content-Security-Policy blocked. */
export function watchForErrors(page: Page): () => void {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|panicked|RuntimeError/.test(m.text())) {
      problems.push(`console: ${m.text()}`);
    }
  });
  return () => expect(problems, problems.join('\n')).toEqual([]);
}

/** Waits until the app has rendered (the wasm module started). */
export async function appReady(page: Page) {
  await expect(page.locator('header.site-header')).toBeVisible();
}
