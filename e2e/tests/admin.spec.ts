import { test, expect } from '@playwright/test';
import { appReady, keepScreenshot, openSection, register, staffSignedIn, watchForErrors } from './support';

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
  // The settings sections are pages (and a bundle) of their own, reached from the side
  // navigation.
  await openSection(page, '短信发件箱');
  await expect(page).toHaveURL(/\/admin\/settings\/outbox$/);
  await expect(page.locator('.staff-bar')).toContainText(`${staff.displayName} · 管理员`);
  const outbox = page.getByRole('region', { name: '短信发件箱' });
  await outbox.getByRole('button', { name: '刷新' }).click();
  await expect(outbox.getByRole('row').filter({ hasText: mobile }).first()).toContainText('SMS_CD_REGISTER');
  await openSection(page, '审计日志');
  await expect(page.getByRole('region', { name: '审计日志' }).getByRole('row').filter({ hasText: mobile }).first()).toBeVisible();

  // 员工: add a member; the enrolment link is shown to copy; change their role.
  await openSection(page, '员工');
  const members = page.getByRole('region', { name: '员工' });
  const username = `cs${Date.now()}`;
  await members.getByLabel('用户名').fill(username);
  await members.getByLabel('姓名').fill('客服小李');
  await members.getByLabel('角色', { exact: true }).selectOption('customer_service');
  await members.getByRole('button', { name: '添加员工' }).click();
  await expect(members.getByLabel('登记链接')).toHaveValue(/\/admin\/enrol#token=.+/);
  const row = members.getByRole('row').filter({ hasText: username });
  await expect(row).toContainText('未登记');
  // The change is stored before the page is loaded again.
  const saved = page.waitForResponse((r) => r.url().endsWith('/role') && r.request().method() === 'PUT');
  await row.getByLabel('客服小李 的角色').selectOption('finance');
  expect((await saved).ok()).toBe(true);
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
  await page.goto('/admin/settings');
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

test('an administrator adds a project and a certificate type, puts it on sale, and a customer is offered it', async ({ browser }) => {
  test.setTimeout(90_000);
  const staff = await staffSignedIn(browser);
  const page = staff.page;
  const noErrors = watchForErrors(page);
  // The settings half opens on its first section.
  await page.goto('/admin/settings');
  await expect(page).toHaveURL(/\/admin\/settings\/catalogue$/);
  await appReady(page);
  const types = page.getByRole('region', { name: '项目与证书类型' });
  const project = `政务专用${Date.now() % 100000}`;

  // A blank name is refused in the browser by the shared rule, and nothing is added.
  const before = (await (await page.request.get('/api/admin/catalogue')).json()).length;
  await types.getByRole('button', { name: '新增项目' }).click();
  await expect(types.getByRole('alert').filter({ hasText: '此项为必填项' })).toBeVisible();
  expect((await (await page.request.get('/api/admin/catalogue')).json()).length).toBe(before);
  // The name of a project that exists is refused by the server, and what was typed stays.
  await types.getByLabel('新项目名称').fill('RA测试专用');
  await types.getByRole('button', { name: '新增项目' }).click();
  await expect(types.getByRole('alert').filter({ hasText: /已存在/ })).toBeVisible();
  await expect(types.getByLabel('新项目名称')).toHaveValue('RA测试专用');
  await types.getByLabel('新项目名称').fill(project);
  await types.getByRole('button', { name: '新增项目' }).click();
  await expect(types.getByRole('status')).toHaveText(`已保存 ${project}`);
  await expect(types.getByLabel('新项目名称')).toHaveValue('');

  // 机构证书（加密） on UKey only, asking for the licence and the operator's ID.
  const form = types.locator('form', { has: page.getByRole('heading', { name: '新增证书类型' }) });
  await form.getByLabel('项目名称').selectOption({ label: project });
  await form.getByLabel('证书类型名称').fill('机构加密证书');
  await form.getByLabel('签发模板').selectOption('org_enc');
  await form.getByRole('group', { name: '所需资料' }).getByRole('checkbox', { name: '其他资料' }).uncheck();
  await form.getByRole('button', { name: '新增证书类型' }).click();
  await expect(types.getByRole('status')).toHaveText('已保存 机构加密证书');
  const label = `${project} 机构加密证书`;
  const media = types.getByRole('group', { name: `介质类型 ${label}` });
  await expect(media.getByRole('checkbox', { name: 'UKey' })).toBeChecked();
  await expect(media.getByRole('checkbox', { name: 'PC软盾' })).not.toBeChecked();
  await expect(types.getByRole('group', { name: `所需资料 ${label}` }).getByRole('checkbox', { name: '其他资料' })).not.toBeChecked();
  await expect(types.getByRole('row', { name: new RegExp(project) })).toContainText('机构证书（加密）');
  // Also sold on PC soft shields from now on.
  await media.getByRole('checkbox', { name: 'PC软盾' }).check();
  await types.getByRole('button', { name: `保存 ${label}` }).click();
  await expect(types.getByRole('status')).toHaveText(`已保存 ${label}`);

  // On sale once a validity period has a price (价格, a section of its own).
  await openSection(page, '价格');
  await expect(page).toHaveURL(/\/admin\/settings\/prices$/);
  const prices = page.getByRole('region', { name: '价格' });
  await prices.getByLabel(`价格（元） ${label}`, { exact: true }).fill('200');
  await prices.getByRole('button', { name: `新增有效期 ${label}` }).click();
  await expect(prices.getByLabel(`价格（元） ${label} 1年`)).toHaveValue('200');
  await openSection(page, '项目与证书类型');
  await page.reload();
  await expect(page.getByRole('region', { name: '项目与证书类型' }).getByRole('group', { name: `介质类型 ${label}` }).getByRole('checkbox', { name: 'PC软盾' })).toBeChecked();

  // A customer's wizard offers the new project, its type and both media.
  const customer = await browser.newContext();
  const customerPage = await customer.newPage();
  await register(customerPage, staff, '企业账户');
  await customerPage.goto('/apply');
  await expect(customerPage.getByRole('heading', { name: '选择证书类型' })).toBeVisible();
  await customerPage.getByLabel('项目名称').selectOption({ label: project });
  await customerPage.getByLabel('证书类型').selectOption({ label: '机构加密证书' });
  await expect(customerPage.getByLabel('介质类型').locator('option')).toContainText(['UKey', 'PC软盾']);
  await expect(customerPage.getByLabel('介质类型').locator('option', { hasText: '移动软盾' })).toHaveCount(0);
  await customer.close();
  noErrors();
  await staff.context.close();
});
