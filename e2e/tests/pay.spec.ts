import { test, expect } from '@playwright/test';
import { appReady, register, staffSignedIn, watchForErrors } from './support';
import { files, wizardToPayment } from './journey';

// ⑥ 扫码缴费 with 微信支付 or 支付宝, each against its sandbox: the server's production client
// makes the order at the sandbox over HTTP (WeChat Pay API v3 signed both ways; Alipay's
// gateway signed RSA2 both ways), the page shows its QR code, the phone's page pays, the
// sandbox POSTs the notification back to the server, and the wizard moves on by itself.

const WAYS = [
  { way: 'wechat', name: '微信支付', title: 'WeChat Pay', hint: /^请使用微信扫一扫/, page: /\/sandbox\/wechatpay\/pay\/[\w-]+$/ },
  { way: 'alipay', name: '支付宝', title: 'Alipay', hint: /^请使用支付宝扫一扫/, page: /\/sandbox\/alipay\/pay\/[\w-]+$/ },
] as const;

for (const w of WAYS) test(`a customer pays with ${w.title} by scanning, and the wizard moves on by itself`, async ({ browser, page, context }) => {
  test.setTimeout(60_000);
  const done = watchForErrors(page);
  const staff = await staffSignedIn(browser);
  await register(page, staff, '企业账户');
  await wizardToPayment(page, context, files());
  await expect(page).toHaveURL(/step=6$/);

  // The way, then its QR code.
  // Both ways are offered; the other one is not chosen.
  const other = WAYS.find((o) => o.way !== w.way)!;
  await expect(page.getByRole('radio', { name: other.name })).toBeVisible();
  const way = page.getByRole('radio', { name: w.name });
  await way.check();
  await expect(way).toBeChecked();
  await expect(page.getByText(w.hint)).toBeVisible();
  await expect(page.locator('.qr svg')).toBeVisible();
  await expect(page.locator('.pay .amount')).toHaveText(/^金额：\d+(\.\d+)?元$/);
  const link = page.getByRole('link', { name: '在手机上打开支付页面' });
  const codeUrl = (await link.getAttribute('href'))!;
  expect(codeUrl).toMatch(w.page);

  // The order the wizard polls: open, in that way; a reload shows the same QR code.
  const id = new URL(page.url()).searchParams.get('id')!;
  const order = await (await page.request.get(`/api/applications/${id}/payment`)).json();
  expect([order.status, order.way, order.code_url]).toEqual(['not_paid', w.way, codeUrl]);
  await page.reload();
  await appReady(page);
  await expect(page.getByRole('radio', { name: w.name })).toBeChecked();
  await expect(link).toHaveAttribute('href', codeUrl);

  // The phone opens the code and pays (the page stays open: closing it while its
  // confirmation navigates can hang Chromium).
  const phone = await context.newPage();
  await phone.goto(codeUrl);
  await expect(phone.getByRole('heading', { name: '确认付款' })).toBeVisible();
  await expect(phone.getByText(`订单号：${order.out_trade_no}`)).toBeVisible();
  await phone.getByRole('button', { name: '确认支付' }).click();
  await expect(phone.getByRole('status')).toHaveText('支付成功');

  // The notification reaches the server; the wizard moves on to ⑦ by itself.
  await expect(page).toHaveURL(/step=7$/, { timeout: 15_000 });
  const paid = await (await page.request.get(`/api/applications/${id}/payment`)).json();
  expect([paid.status, paid.way]).toEqual(['paid', w.way]);
  done();
});
