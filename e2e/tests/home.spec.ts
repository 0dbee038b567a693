import { test, expect } from '@playwright/test';
import { appReady, keepScreenshot, watchForErrors } from './support';

const languages = [
  { tag: 'zh-CN', option: '简体中文', h1: '数字证书自助服务', nav: '证书新办', footer: '客服热线' },
  { tag: 'zh-TW', option: '繁體中文', h1: '數位憑證自助服務', nav: '憑證新辦', footer: '客服熱線' },
  { tag: 'en', option: 'English', h1: 'Certificate self-service', nav: 'New certificate', footer: 'Service hotline' },
];

test('the home page renders in Simplified Chinese by default', async ({ page }) => {
  const noErrors = watchForErrors(page);
  await page.goto('/');
  await appReady(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('数字证书自助服务');
  await expect(page).toHaveTitle('CertDesk 数字证书自助服务平台');
  await expect(page.getByRole('navigation', { name: '主导航' })).toBeVisible();
  noErrors();
});

for (const lang of languages) {
  test(`the home page renders in ${lang.tag}`, async ({ page }) => {
    const noErrors = watchForErrors(page);
    await page.goto('/');
    await appReady(page);
    await page.getByLabel(/语言|語言|Language/).selectOption({ label: lang.option });
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(lang.h1);
    await expect(page.getByRole('navigation').getByRole('link', { name: lang.nav })).toBeVisible();
    await expect(page.locator('footer')).toContainText(lang.footer);
    await expect(page.locator('html')).toHaveAttribute('lang', lang.tag);
    await keepScreenshot(page, `home-${lang.tag}`);
    // The choice survives a reload.
    await page.reload();
    await appReady(page);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(lang.h1);
    noErrors();
  });
}
