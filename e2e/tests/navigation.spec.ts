import { test, expect } from '@playwright/test';
import { appReady, keepScreenshot, watchForErrors } from './support';

const pages = [{ name: '环境检测', path: '/env-check', shot: 'env-check' }];

test('every navigation link opens its page without a reload', async ({ page }) => {
  const noErrors = watchForErrors(page);
  await page.goto('/');
  await appReady(page);
  await page.evaluate(() => ((window as any).__sameDocument = true));
  const nav = page.getByRole('navigation', { name: '主导航' });
  for (const p of pages) {
    await nav.getByRole('link', { name: p.name, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${p.path}$`));
    const h1 = p.path === '/env-check' ? '本地环境检测' : p.name;
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(h1);
    await expect(nav.getByRole('link', { name: p.name, exact: true })).toHaveAttribute('aria-current', 'page');
    await expect(page).toHaveTitle(new RegExp(`^${h1} - CertDesk`));
    await keepScreenshot(page, `page-${p.shot}`);
  }
  // Client-side routing: still the same document.
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  await nav.getByRole('link', { name: '首页' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('数字证书自助服务');
  noErrors();
});

test('the navigation offers the operations of the seed sites; 变更, 补办 and 注销 ask a visitor to sign in first', async ({ page }) => {
  await page.goto('/');
  await appReady(page);
  const nav = page.getByRole('navigation', { name: '主导航' });
  await expect(nav.getByRole('link')).toHaveText([
    '首页', '证书新办', '证书延期', '证书变更', '证书补办', '证书注销', '证书解锁', '远程下载', '证书校验', '查询服务', '环境检测',
  ]);
  // 证书延期 starts from one of the holder's certificates.
  await expect(nav.getByRole('link', { name: '证书延期' })).toHaveAttribute('href', '/renew');
  for (const path of ['/change', '/reissue', '/revoke']) {
    await page.goto(path);
    await expect(page).toHaveURL(new RegExp(`/sign-in\\?next=(%2F|/)${path.slice(1)}$`));
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('登录');
  }
});

test('证书新办 opens the wizard, its own bundle; signed out, it asks to sign in first', async ({ page }) => {
  const noErrors = watchForErrors(page);
  await page.goto('/');
  await appReady(page);
  const nav = page.getByRole('navigation', { name: '主导航' });
  await nav.getByRole('link', { name: '证书新办', exact: true }).click();
  await expect(page).toHaveURL(/\/sign-in\?next=\/apply$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('登录');
  noErrors();
});

test('证书解锁 and 证书校验 open the token pages, without signing in', async ({ page }) => {
  const noErrors = watchForErrors(page);
  for (const [name, path] of [['证书解锁', '/unlock'], ['证书校验', '/verify']]) {
    await page.goto('/');
    await appReady(page);
    await page.getByRole('navigation', { name: '主导航' }).getByRole('link', { name, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${path}$`));
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
    await expect(page).toHaveTitle(new RegExp(`^${name} - CertDesk`));
  }
  noErrors();
});

test('查询服务 opens the public directory, its own bundle, without signing in', async ({ page }) => {
  const noErrors = watchForErrors(page);
  await page.goto('/');
  await appReady(page);
  const nav = page.getByRole('navigation', { name: '主导航' });
  await nav.getByRole('link', { name: '查询服务', exact: true }).click();
  await expect(page).toHaveURL(/\/search$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('查询服务');
  await expect(page).toHaveTitle(/^查询服务 - CertDesk/);
  await expect(page.getByRole('heading', { name: '证书状态查询' })).toBeVisible();
  await keepScreenshot(page, 'page-search');
  noErrors();
});

test('a deep link loads its page directly', async ({ page }) => {
  await page.goto('/env-check');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('本地环境检测');
});

test('an unknown address shows the 404 page', async ({ page }) => {
  await page.goto('/no/such/page');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('页面不存在');
  await keepScreenshot(page, 'page-404');
  await page.getByRole('link', { name: '返回首页' }).click();
  await expect(page).toHaveURL(/\/$/);
});

test('at 375 px the navigation sits behind a menu button', async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 812 });
  await page.goto('/');
  await appReady(page);
  const menu = page.getByRole('button', { name: '菜单' });
  const nav = page.getByRole('navigation', { name: '主导航' });
  await expect(menu).toHaveAttribute('aria-expanded', 'false');
  await expect(nav).toBeHidden();
  await menu.click();
  await expect(menu).toHaveAttribute('aria-expanded', 'true');
  await expect(nav).toBeVisible();
  await keepScreenshot(page, 'home-375px-menu');
  await nav.getByRole('link', { name: '证书解锁' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('证书解锁');
  await expect(nav).toBeHidden();
  // Nothing wider than the screen.
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(scrollWidth).toBeLessThanOrEqual(375);
});

test('the page can be used from the keyboard: skip link then main content', async ({ page }) => {
  await page.goto('/');
  await appReady(page);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: '跳到主要内容' });
  await expect(skip).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('main')).toBeFocused();
  // The next Tab goes into the page content, past the header and navigation.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: /^证书新办/ }).last()).toBeFocused();
});

test('a page whose code cannot be fetched loads again instead of stopping the app', async ({ page }) => {
  // 注册 is a lazy chunk of the account bundle (components::lazily). A chunk can be gone when
  // a deploy happened since the page was loaded, or the network can fail: the first fetch fails.
  const noErrors = watchForErrors(page);
  let fetches = 0;
  await page.route(/\/split_register_[^/]*\.wasm$/, async (route) => {
    fetches += 1;
    if (fetches === 1) await route.abort('internetdisconnected');
    else await route.continue();
  });
  await page.goto('/register');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('注册');
  expect(fetches).toBe(2);
  await appReady(page);
  noErrors();
});
