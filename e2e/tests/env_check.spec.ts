import { test, expect } from '@playwright/test';
import http from 'node:http';
import { appReady, keepScreenshot, watchForErrors } from './support';

const AGENT_PORT = 17530;

function row(page: import('@playwright/test').Page, label: RegExp) {
  return page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: label }) });
}

test('the environment check measures this browser and finds no agent', async ({ page }) => {
  const noErrors = watchForErrors(page);
  await page.goto('/env-check');
  await appReady(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('本地环境检测');
  await expect(row(page, /操作系统为：Linux/).getByRole('cell')).toHaveText('通过');
  await expect(row(page, /浏览器版本为：Chrom(e|ium) \d+/).getByRole('cell')).toHaveText('通过');
  await expect(row(page, /WebAssembly/).getByRole('cell')).toHaveText('通过');
  await expect(row(page, /Cookie/).getByRole('cell')).toHaveText('通过');
  await expect(row(page, /安全连接/).getByRole('cell')).toHaveText('通过');
  await expect(row(page, /门户服务器连接/).getByRole('cell')).toHaveText('通过');
  await expect(row(page, /证书助手安装情况/).getByRole('cell')).toHaveText('未安装');
  await expect(page.getByText('本地检测完成，请使用系统！')).toBeVisible();
  await expect(page.getByText(/未检测到证书助手.*17530/)).toBeVisible();
  await keepScreenshot(page, 'env-check-no-agent');
  noErrors();
});

test('the environment check reports a cookie-less browser', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'cookieEnabled', { get: () => false }));
  await page.goto('/env-check');
  await appReady(page);
  await expect(row(page, /Cookie/).getByRole('cell')).toHaveText('未通过');
  await expect(page.getByText('请在浏览器设置中允许本网站使用 Cookie，否则无法登录。')).toBeVisible();
  await expect(page.getByText('本地检测完成，请使用系统！')).toHaveCount(0);
  await context.close();
});

test('the environment check says when the server or its database is down', async ({ page }) => {
  // What the server answers when its database is unreachable.
  await page.route('**/api/health', (route) =>
    route.fulfill({
      status: 503,
      contentType: 'application/json',
      body: JSON.stringify({ status: 'degraded', version: '0.1.0', database: false, database_kind: 'sqlite' }),
    }),
  );
  await page.goto('/env-check');
  await appReady(page);
  await expect(row(page, /门户服务器连接/).getByRole('cell')).toHaveText('未通过');
  await expect(page.getByText('无法连接服务器，请检查网络后重试：无法连接门户服务器或其数据库，请稍后重试或拨打客服热线。')).toBeVisible();
  await expect(page.getByText('本地检测完成，请使用系统！')).toHaveCount(0);
});

test.describe('with an agent answering on its port', () => {
  let server: http.Server;
  test.beforeAll(async () => {
    server = http.createServer((req, res) => {
      res.setHeader('Access-Control-Allow-Origin', req.headers.origin ?? '*');
      if (req.url === '/v1/info') {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ name: 'certdesk-agent', version: '9.8.7' }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(AGENT_PORT, '127.0.0.1', resolve));
  });
  test.afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  test('the environment check shows the agent and its version', async ({ page }) => {
    await page.goto('/env-check');
    await appReady(page);
    await expect(row(page, /证书助手安装情况/).getByRole('cell')).toHaveText('已安装，版本 9.8.7');
    await expect(page.getByText(/未检测到证书助手/)).toHaveCount(0);
    await keepScreenshot(page, 'env-check-agent');
  });
});
