import { test, expect, type Page } from '@playwright/test';
import { appReady, keepScreenshot, watchForErrors } from './support';

const languages = [
  { tag: 'zh-CN', option: '简体中文', h1: '数字证书自助服务', nav: '证书新办', footer: '客服热线' },
  { tag: 'zh-TW', option: '繁體中文', h1: '數位憑證自助服務', nav: '憑證新辦', footer: '客服熱線' },
  { tag: 'en', option: 'English', h1: 'Certificate self-service', nav: 'New certificate', footer: 'Service hotline' },
];

/** The paths of the texts' files (`/texts/<tag>-<hash>.json`) the page fetches. */
function textsFetched(page: Page): string[] {
  const fetched: string[] = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/texts/')) fetched.push(path);
  });
  return fetched;
}

test('the home page renders in Simplified Chinese by default', async ({ page }) => {
  const noErrors = watchForErrors(page);
  // The default language is compiled into every bundle: no texts to fetch.
  const texts = textsFetched(page);
  await page.goto('/');
  await appReady(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('数字证书自助服务');
  await expect(page).toHaveTitle('CertDesk 数字证书自助服务平台');
  await expect(page.getByRole('navigation', { name: '主导航' })).toBeVisible();
  // A tile per operation that is built, none for one that is not.
  const tiles = page.getByRole('region', { name: '网上办事' });
  await expect(tiles.getByRole('heading', { level: 3 })).toHaveText(['证书新办', '证书延期', '证书变更', '证书补办', '证书注销', '证书解锁', '远程下载', '证书校验', '查询服务', '环境检测']);
  await page.goto('/search');
  await appReady(page);
  await expect(page.locator('footer')).toContainText('客服热线');
  expect(texts).toEqual([]);
  noErrors();
});

test.describe('a browser that asks for English', () => {
  test.use({ locale: 'en-GB' });

  test('gets every bundle in English, its texts fetched before the page is drawn', async ({ page }) => {
    const noErrors = watchForErrors(page);
    const texts = textsFetched(page);
    for (const path of ['/search', '/sign-in']) {
      await page.goto(path);
      await appReady(page);
      await expect(page.locator('html')).toHaveAttribute('lang', 'en');
      await expect(page.getByRole('navigation').getByRole('link', { name: 'New certificate' })).toBeVisible();
      await expect(page.locator('footer')).toContainText('Service hotline');
    }
    // One file, named by its content, fetched by each page load (the browser's cache keeps it).
    expect(texts.length).toBe(2);
    for (const path of texts) expect(path).toMatch(/^\/texts\/en-[0-9a-f]{16}\.json$/);
    // The page's own texts too (the sign-in page is a lazy chunk of its bundle).
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign in');
    await expect(page.locator('main')).not.toContainText('登录');
    noErrors();
  });
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

test('texts that cannot be fetched leave the page in its language, and the last choice wins', async ({ page, context }) => {
  const noErrors = watchForErrors(page);
  await page.goto('/');
  await appReady(page);
  const switcher = page.getByLabel(/语言|語言|Language/);
  // English's texts cannot be fetched: the page, the switch and the cookie stay Chinese.
  await page.route('**/texts/en-*.json', (route) => route.abort());
  await switcher.selectOption({ label: 'English' });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('数字证书自助服务');
  await expect(switcher).toHaveValue('zh-CN');
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  expect((await context.cookies()).find((c) => c.name === 'i18n_pref_locale')).toBeUndefined();
  // English's texts arrive late, after 繁體中文 was chosen: traditional Chinese stays.
  await page.unroute('**/texts/en-*.json');
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/texts/en-*.json', async (route) => {
    await held;
    await route.continue();
  });
  await switcher.selectOption({ label: 'English' });
  await switcher.selectOption({ label: '繁體中文' });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('數位憑證自助服務');
  const arrived = page.waitForResponse('**/texts/en-*.json');
  release();
  await arrived;
  // A moment for a late switch to show, were there one.
  await page.waitForTimeout(300);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('數位憑證自助服務');
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-TW');
  expect((await context.cookies()).find((c) => c.name === 'i18n_pref_locale')?.value).toBe('zh-TW');
  noErrors();
});

test('a staging server says so on every page, in each language', async ({ page }) => {
  const noErrors = watchForErrors(page);
  // What a staging server (CERTDESK_STAGING) answers; the test server is a development one.
  await page.route('**/api/health', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, json: { ...(await response.json()), staging: true } });
  });
  await page.goto('/');
  await appReady(page);
  await expect(page.getByRole('note')).toHaveText('测试环境');
  await page.getByLabel(/语言|語言|Language/).selectOption({ label: '繁體中文' });
  await expect(page.getByRole('note')).toHaveText('測試環境');
  await page.getByLabel(/语言|語言|Language/).selectOption({ label: 'English' });
  await expect(page.getByRole('note')).toHaveText('Test environment');
  // The other bundles: the public directory and the staff console.
  for (const path of ['/search', '/admin/sign-in']) {
    await page.goto(path);
    await appReady(page);
    await expect(page.getByRole('note')).toHaveText('Test environment');
  }
  noErrors();
});

test('a development server shows no staging banner', async ({ page }) => {
  const health = page.waitForResponse('**/api/health');
  await page.goto('/');
  await appReady(page);
  expect((await (await health).json()).staging).toBe(false);
  await expect(page.getByRole('note')).toHaveCount(0);
});
