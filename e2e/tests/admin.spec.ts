import { test, expect } from '@playwright/test';
import { keepScreenshot, register, staffSignedIn, watchForErrors } from './support';

test('a staff member signs in with a security key and sees the SMS outbox and the audit log', async ({ browser }) => {
  test.setTimeout(90_000);
  const staff = await staffSignedIn(browser);
  const page = staff.page;
  const noErrors = watchForErrors(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('CertDesk 管理后台');
  await expect(page.locator('.staff-bar')).toContainText(`${staff.displayName} · 管理员`);
  // No customer navigation in the admin area.
  await expect(page.getByRole('navigation', { name: '主导航' })).toHaveCount(0);

  // A customer asks for a code; it shows in the outbox.
  const customer = await browser.newContext();
  const customerPage = await customer.newPage();
  const { mobile } = await register(customerPage, staff, '个人账户');
  await customer.close();
  const outbox = page.getByRole('region', { name: '短信发件箱' });
  await outbox.getByRole('button', { name: '刷新' }).click();
  await expect(outbox.getByRole('row').filter({ hasText: mobile }).first()).toContainText('SMS_CD_REGISTER');
  await expect(page.getByRole('region', { name: '审计日志' })).toBeVisible();

  // 员工: add a member; the enrolment link is shown to copy; change their role.
  const members = page.getByRole('region', { name: '员工' });
  const username = `cs${Date.now()}`;
  await members.getByLabel('用户名').fill(username);
  await members.getByLabel('姓名').fill('客服小李');
  await members.getByLabel('角色', { exact: true }).selectOption('customer_service');
  await members.getByRole('button', { name: '添加员工' }).click();
  await expect(members.getByLabel('登记链接')).toHaveValue(/\/admin\/enrol#token=.+/);
  const row = members.getByRole('row').filter({ hasText: username });
  await expect(row).toContainText('未登记');
  await row.getByLabel('客服小李 的角色').selectOption('finance');
  await page.reload();
  await expect(page.getByRole('region', { name: '员工' }).getByRole('row').filter({ hasText: username }).getByRole('combobox')).toHaveValue('finance');
  await keepScreenshot(page, 'admin');
  noErrors();
  await staff.context.close();
});

test('a signed-in customer gets the refusal at /admin and no staff data', async ({ browser }) => {
  test.setTimeout(90_000);
  const staff = await staffSignedIn(browser);
  const context = await browser.newContext();
  const page = await context.newPage();
  await register(page, staff, '个人账户');

  await page.goto('/admin');
  await expect(page.getByText(/请先登录|无权进行此操作/).first()).toBeVisible();
  await expect(page.getByRole('heading', { name: '员工', exact: true })).toHaveCount(0);
  await expect(page.getByRole('heading', { name: '短信发件箱', exact: true })).toHaveCount(0);
  await expect(page.getByText(staff.username)).toHaveCount(0);

  for (const path of ['/api/admin/staff', '/api/admin/sms-outbox', '/api/admin/audit', '/api/admin/session']) {
    const res = await page.request.get(path);
    expect([401, 403], path).toContain(res.status());
    const body = await res.json();
    expect(['unauthorized', 'forbidden'], path).toContain(body.code);
    expect(JSON.stringify(body), path).not.toContain(staff.username);
  }
  await context.close();
  await staff.context.close();
});
