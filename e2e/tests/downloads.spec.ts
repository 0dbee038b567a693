import { test, expect } from '@playwright/test';
import { createHash } from 'node:crypto';
import { appReady, keepScreenshot, watchForErrors } from './support';

// 下载中心: the token agent for Windows and Linux, reached from the footer and from the
// environment check; each file's SHA-256 on the page is the digest of the bytes served.
test('下载中心 offers the token agent for Windows and Linux with the SHA-256 of what it serves', async ({ page }) => {
  const noErrors = watchForErrors(page);
  await page.goto('/env-check');
  await appReady(page);
  await expect(page.getByText(/未检测到证书助手/)).toBeVisible();
  await page.getByRole('contentinfo').getByRole('link', { name: '下载中心' }).click();
  await expect(page).toHaveURL(/\/downloads$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('下载中心');

  const rows = page.getByRole('row').filter({ has: page.getByRole('cell') });
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText('Windows 10/11（64位）');
  await expect(rows.nth(1)).toContainText('Linux（x86_64）');
  for (const [i, suffix] of [[0, '-windows-x86_64.exe'], [1, '-linux-x86_64.tar.gz']] as const) {
    const link = rows.nth(i).getByRole('link');
    const file = (await link.textContent())!.trim();
    expect(file.startsWith('certdesk-agent-') && file.endsWith(suffix)).toBe(true);
    const shown = (await rows.nth(i).locator('code').textContent())!.trim();
    expect(shown).toMatch(/^[0-9a-f]{64}$/);
    const res = await page.request.get(await link.getAttribute('href') as string);
    expect(res.status()).toBe(200);
    const body = await res.body();
    expect(createHash('sha256').update(body).digest('hex')).toBe(shown);
    // The Windows file is a PE executable, the Linux one a gzip archive.
    expect(body.subarray(0, 2).toString('latin1')).toBe(i === 0 ? 'MZ' : '\x1f\x8b');
  }
  // How to check a copy, with the real file names.
  await expect(page.getByText(/certutil -hashfile certdesk-agent-.*-windows-x86_64\.exe SHA256/)).toBeVisible();
  await expect(page.getByText(/sha256sum certdesk-agent-.*-linux-x86_64\.tar\.gz/)).toBeVisible();
  await keepScreenshot(page, 'downloads');
  noErrors();
});
