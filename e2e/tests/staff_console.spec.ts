import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { appReady, openSection, register, sideNav, staffSignedIn, watchForErrors } from './support';
import { approve, files, wizard } from './journey';

// The staff console by role (issue 21): each role's side navigation shows its sections only,
// with what waits in each queue; every section has its own address, so reload, back and a
// shared link land on the same section and filter; the audit trail pages, filters and
// exports CSV with its Chinese text intact.

const SECTIONS: Record<string, string[]> = {
  reviewer: ['工作台', '审核', '证书冻结与吊销'],
  customer_service: ['工作台', '邮寄', '客服'],
  finance: ['工作台', '发票申请', '转账确认', '月结对账单'],
  administrator: ['工作台', '审核', '证书冻结与吊销', '邮寄', '客服', '发票申请', '转账确认', '月结对账单', '项目与证书类型', '价格', '收费类型', '员工', '短信发件箱', '审计日志'],
};

/** 工作台's charts per role, by title. */
const CHARTS: Record<string, string[]> = {
  reviewer: ['近30天每日业务量', '待审核业务与5个工作日时限', '近30天每日吊销'],
  customer_service: ['近30天每日业务量', '未来90天到期证书（按周）'],
  finance: ['近30天每日业务量', '近12个月收入（元）'],
  administrator: ['近30天每日业务量', '待审核业务与5个工作日时限', '近12个月收入（元）', '未来90天到期证书（按周）', '近30天每日吊销'],
};

/** The side navigation's section names, without their counts. */
async function navNames(page: import('@playwright/test').Page): Promise<string[]> {
  const links = sideNav(page).getByRole('link');
  await expect(links.first()).toBeVisible();
  return (await links.allTextContents()).map((t) => t.replace(/\d+$/, '').trim());
}

for (const role of Object.keys(SECTIONS)) {
  test(`a ${role} sees only the sections of that role, and another role's address shows the refusal`, async ({ browser }) => {
    test.setTimeout(60_000);
    const staff = await staffSignedIn(browser, role);
    const page = staff.page;
    const noErrors = watchForErrors(page);
    expect(await navNames(page)).toEqual(SECTIONS[role]);
    await expect(sideNav(page).getByRole('link', { name: new RegExp(`^${SECTIONS[role][0]}`) })).toHaveAttribute('aria-current', 'page');
    // 工作台: the charts of the role's work, each drawn (SVG with bars and labelled axes).
    const charts = page.getByRole('region', { name: '工作台' }).getByRole('figure');
    await expect(charts).toHaveCount(CHARTS[role].length);
    for (const [i, title] of CHARTS[role].entries()) {
      await expect(charts.nth(i).getByRole('heading')).toHaveText(title);
      await expect(charts.nth(i).locator('.chart-plot svg text').first()).toBeVisible();
    }
    if (role !== 'administrator') {
      // A shared link to a section of another role: the refusal, and none of its data.
      await page.goto('/admin/settings/staff');
      await appReady(page);
      await expect(page.getByRole('alert')).toHaveText('无权进行此操作');
      await expect(page.getByRole('region', { name: '员工' })).toHaveCount(0);
      await expect(page.locator('table')).toHaveCount(0);
      // The navigation is still the role's own.
      expect(await navNames(page)).toEqual(SECTIONS[role]);
    }
    noErrors();
    await staff.context.close();
  });
}

test('the review queue pages, sorts and searches on the server, its count is the queue, and the address keeps it all', async ({ browser, page: customer, context }) => {
  test.setTimeout(120_000);
  // Two 新办 wait for review.
  const admin = await staffSignedIn(browser);
  const { mobile } = await register(customer, admin, '企业账户');
  const { acceptance } = await wizard(customer, context, files(), 'qr');
  const { acceptance: second } = await wizard(customer, context, files(), 'qr');
  await admin.context.close();

  const staff = await staffSignedIn(browser, 'reviewer');
  const page = staff.page;
  const noErrors = watchForErrors(page);
  await openSection(page, '审核');
  await expect(page).toHaveURL(/\/admin\/review$/);
  const review = page.getByRole('region', { name: '审核', exact: true });
  const queue = await (await page.request.get('/api/admin/applications')).json();
  expect(queue.total).toBeGreaterThan(1);
  // The count beside 审核 is the number of requests in its queue; a page shows up to 50.
  const link = sideNav(page).getByRole('link', { name: /^审核/ });
  await expect(link).toHaveText(`审核${queue.total}`);
  await expect(review.locator('tbody tr')).toHaveCount(queue.items.length);
  await expect(review.getByRole('navigation', { name: '分页' })).toContainText(`共 ${queue.total} 条`);

  // Found by its acceptance number; the search goes into the address.
  await review.getByRole('searchbox', { name: '搜索' }).fill(acceptance);
  await review.getByRole('button', { name: '查询' }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/review\\?q=${acceptance}$`));
  await expect(review.locator('tbody tr')).toHaveCount(1);
  const mine = review.getByRole('row', { name: new RegExp(acceptance) });
  await expect(mine).toBeVisible();

  // The kind filter joins it; reload keeps both.
  await review.getByLabel('业务类型').selectOption('renew');
  await expect(page).toHaveURL(new RegExp(`\\?kind=renew&q=${acceptance}$`));
  await expect(mine).toHaveCount(0);
  await expect(review.getByText('无数据')).toBeVisible();
  await page.reload();
  const again = page.getByRole('region', { name: '审核', exact: true });
  await expect(again.getByLabel('业务类型')).toHaveValue('renew');
  await expect(again.getByRole('searchbox', { name: '搜索' })).toHaveValue(acceptance);
  // Back: the search alone, with the application.
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`\\?q=${acceptance}$`));
  await expect(again.getByLabel('业务类型')).toHaveValue('');
  await expect(page.getByRole('row', { name: new RegExp(acceptance) })).toBeVisible();

  // The customer's two requests (found by the account's phone), one a page: oldest first,
  // then newest first by clicking 时间; the page and the order go into the address and
  // survive reload.
  await page.goto(`/admin/review?q=${mobile}&per_page=1`);
  const heading = again.getByRole('columnheader', { name: /^时间/ });
  await expect(heading).toHaveAttribute('aria-sort', 'ascending');
  const pager = again.getByRole('navigation', { name: '分页' });
  await expect(pager).toContainText('共 2 条 · 第 1 / 2 页');
  await expect(again.locator('tbody tr')).toHaveCount(1);
  await expect(again.locator('tbody tr')).toContainText(acceptance);
  await heading.getByRole('button').click();
  await expect(page).toHaveURL(/sort=-submitted_at/);
  await expect(heading).toHaveAttribute('aria-sort', 'descending');
  await expect(again.locator('tbody tr')).toContainText(second);
  await pager.getByRole('button', { name: '下一页' }).click();
  await expect(page).toHaveURL(/page=2/);
  await expect(again.locator('tbody tr')).toContainText(acceptance);
  await page.reload();
  const reloaded = page.getByRole('region', { name: '审核', exact: true });
  await expect(reloaded.locator('tbody tr')).toContainText(acceptance);
  await expect(reloaded.getByRole('navigation', { name: '分页' })).toContainText('共 2 条 · 第 2 / 2 页');
  await expect(reloaded.getByRole('columnheader', { name: /^时间/ })).toHaveAttribute('aria-sort', 'descending');
  noErrors();
  await staff.context.close();
});

test('the audit trail pages and filters on the server, keeps them in the address, and exports CSV', async ({ browser }) => {
  test.setTimeout(90_000);
  const staff = await staffSignedIn(browser);
  const page = staff.page;
  const noErrors = watchForErrors(page);
  // Events to find: a customer registers.
  const customer = await browser.newContext();
  const { mobile } = await register(await customer.newPage(), staff, '个人账户');
  await customer.close();

  await openSection(page, '审计日志');
  await expect(page).toHaveURL(/\/admin\/settings\/audit$/);
  const total = (await (await page.request.get('/api/admin/audit')).json()).total;
  const audit = page.getByRole('region', { name: '审计日志' });
  await expect(audit.getByRole('navigation', { name: '分页' })).toContainText(`共 ${total} 条 · 第 1 / ${Math.ceil(total / 50)} 页`);
  await expect(audit.locator('tbody tr')).toHaveCount(Math.min(total, 50));

  // Five rows a page (a shared link may say so): the next page comes from the server and
  // goes into the address; back returns to the first.
  expect(total).toBeGreaterThan(5);
  await page.goto('/admin/settings/audit?per_page=5');
  const pager = audit.getByRole('navigation', { name: '分页' });
  await expect(pager).toContainText(`第 1 / ${Math.ceil(total / 5)} 页`);
  await expect(audit.locator('tbody tr')).toHaveCount(5);
  const firstPage = await audit.locator('tbody tr').allTextContents();
  await expect(pager.getByRole('button', { name: '上一页' })).toBeDisabled();
  await pager.getByRole('button', { name: '下一页' }).click();
  await expect(page).toHaveURL(/per_page=5&page=2$|page=2&per_page=5$/);
  await expect(pager).toContainText('第 2 /');
  await expect(audit.locator('tbody tr')).toHaveCount(5);
  expect(await audit.locator('tbody tr').allTextContents()).not.toEqual(firstPage);
  await page.goBack();
  await expect(pager).toContainText('第 1 /');
  await page.goto('/admin/settings/audit');

  // Filter by object (the customer's phone) and action; reload keeps the filter and rows.
  await audit.getByLabel('对象').fill(mobile);
  await audit.getByRole('button', { name: '查询' }).click();
  await expect(page).toHaveURL(new RegExp(`\\?subject=${mobile}$`));
  const rows = audit.locator('tbody tr');
  await expect(rows.first()).toContainText(mobile);
  const mine = (await (await page.request.get(`/api/admin/audit?subject=${mobile}`)).json()).items;
  await expect(rows).toHaveCount(mine.length);
  // A cell sets its filter: only the registration.
  await rows.filter({ hasText: 'registered' }).getByRole('button', { name: 'registered' }).click();
  await expect(page).toHaveURL(/subject=\d+&action=registered$|action=registered&subject=\d+$/);
  await expect(rows).toHaveCount(1);
  await page.reload();
  await expect(page.getByRole('region', { name: '审计日志' }).getByLabel('操作', { exact: true })).toHaveValue('registered');
  await expect(page.getByRole('region', { name: '审计日志' }).locator('tbody tr')).toHaveCount(1);

  // 导出 CSV: the matching rows, with its Chinese header intact (UTF-8 with a BOM for Excel).
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('region', { name: '审计日志' }).getByRole('link', { name: '导出 CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('审计日志.csv');
  const text = readFileSync((await download.path())!, 'utf8');
  expect(text.charCodeAt(0)).toBe(0xfeff);
  const lines = text.slice(1).trim().split(/\r?\n/);
  expect(lines[0]).toBe('序号,时间 (UTC),操作人,操作,对象,地址,详情');
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain(`,registered,${mobile},`);
  noErrors();
  await staff.context.close();
});

test('customer service finds a customer by acceptance number, reads the file with codes masked, sends a new download code and notes the request', async ({ browser, page, context }) => {
  test.setTimeout(120_000);
  const admin = await staffSignedIn(browser);
  const { mobile } = await register(page, admin, '企业账户');
  const f = files();
  const { acceptance, operator } = await wizard(page, context, f, 'qr');
  const oldCode = await approve(page, admin, acceptance);

  const service = await staffSignedIn(browser, 'customer_service');
  const cs = service.page;
  const noErrors = watchForErrors(cs);
  expect(await navNames(cs)).toEqual(SECTIONS.customer_service);
  await openSection(cs, '客服');
  const section = cs.getByRole('region', { name: '客服' });
  await section.getByLabel('手机号、业务受理号、姓名或单位名称').fill(acceptance);
  await section.getByRole('button', { name: '查询' }).click();
  await expect(cs).toHaveURL(new RegExp(`/admin/customers\\?q=${acceptance}$`));
  await section.getByRole('button', { name: `查看客户 ${mobile}` }).click();
  await expect(cs).toHaveURL(/&id=/);
  const file = section.getByRole('region', { name: new RegExp(`^${mobile}`) });
  await expect(file.getByRole('row', { name: new RegExp(acceptance) }).first()).toContainText('审核通过');
  // The approval SMS is listed with its download code masked: staff never read a live code.
  const approval = file.getByRole('row').filter({ hasText: 'SMS_CD_APPROVED' });
  await expect(approval).toContainText('下载授权码：******');
  await expect(file).not.toContainText(oldCode);

  // A new download code: to the operator's phone; the old one no longer works.
  await file.getByRole('button', { name: `重发下载授权码 ${acceptance}` }).click();
  await expect(section.getByRole('status').filter({ hasText: '原授权码已失效' })).toContainText(`${operator.slice(0, 4)}***`);
  const refused = await page.request.post('/api/applications/download-info', { data: { acceptance_no: acceptance, auth_code: oldCode } });
  expect((await refused.json()).code).toBe('auth_code_invalid');
  const sms = (await (await admin.page.request.get(`/api/admin/sms-outbox?recipient=${operator}&template=SMS_CD_APPROVED`)).json()).items;
  const newCode = sms[0].body.match(/下载授权码：(\d{8})/)[1];
  expect(newCode).not.toBe(oldCode);
  const accepted = await page.request.post('/api/applications/download-info', { data: { acceptance_no: acceptance, auth_code: newCode } });
  expect(accepted.ok()).toBe(true);

  // A note on the request; a reload shows the same customer and the note.
  await file.getByLabel('备注内容').fill('客户来电：授权码短信被误删，已重发');
  await file.getByRole('button', { name: '添加备注' }).click();
  await expect(section.getByRole('status').filter({ hasText: '备注已保存' })).toBeVisible();
  await cs.reload();
  const again = cs.getByRole('region', { name: '客服' }).getByRole('region', { name: new RegExp(`^${mobile}`) });
  await expect(again.getByRole('row').filter({ hasText: '客户来电：授权码短信被误删，已重发' })).toContainText('测试员工');

  // Each look-up is in the audit trail, by this member.
  const viewed = (await (await admin.page.request.get(`/api/admin/audit?action=customer_viewed&subject=${mobile}`)).json()).items;
  expect(viewed.length).toBeGreaterThanOrEqual(2);
  expect(new Set(viewed.map((e: { actor: string }) => e.actor)).size).toBe(1);
  noErrors();
  await service.context.close();
  await admin.context.close();
});

/** A chart's figures table: the cells of the row whose heading is `label`. */
async function chartRow(chart: import('@playwright/test').Locator, label: string): Promise<number[]> {
  const row = chart.getByRole('row').filter({ has: chart.page().getByRole('rowheader', { name: label, exact: true }) });
  return (await row.getByRole('cell').allTextContents()).map((t) => Number(t));
}

test("工作台 draws what the rows hold: the day's requests and the review queue against its promise", async ({ browser, page: customer, context }) => {
  test.setTimeout(90_000);
  const admin = await staffSignedIn(browser);
  const page = admin.page;
  const noErrors = watchForErrors(page);
  const board = page.getByRole('region', { name: '工作台' });
  const requests = board.getByRole('figure', { name: '近30天每日业务量' });
  const deadlines = board.getByRole('figure', { name: '待审核业务与5个工作日时限' });
  // Today in Beijing, as the axis and the table name it (MM-DD).
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', month: '2-digit', day: '2-digit' }).format(new Date());
  // The table's columns: 证书新办 first (the kinds in order), then the total.
  await requests.getByText('数据表').click();
  const before = await chartRow(requests, today);

  // A 新办, paid and submitted: one more today, and one more on time in the queue.
  await register(customer, admin, '企业账户');
  await wizard(customer, context, files(), 'qr');
  await page.reload();
  await appReady(page);
  await requests.getByText('数据表').click();
  const after = await chartRow(requests, today);
  expect(after[0]).toBe(before[0] + 1);
  expect(after[after.length - 1]).toBe(before[before.length - 1] + 1);
  // The bars are drawn by plotters into SVG, the axis labelled with the days.
  await expect(requests.locator('.chart-plot svg rect').first()).toBeVisible();
  await expect(requests.locator('.chart-plot svg')).toContainText(today);

  // 审核时限's three figures are the review queue's rows, by their 剩余工作日.
  const queue: { working_days_left: number }[] = (await (await page.request.get('/api/admin/applications?per_page=200')).json()).items;
  await deadlines.getByText('数据表').click();
  const [onTime] = await chartRow(deadlines, '按时');
  const [dueToday] = await chartRow(deadlines, '今日到期');
  const [late] = await chartRow(deadlines, '已超期');
  expect([onTime, dueToday, late]).toEqual([
    queue.filter((q) => q.working_days_left > 0).length,
    queue.filter((q) => q.working_days_left === 0).length,
    queue.filter((q) => q.working_days_left < 0).length,
  ]);
  expect(onTime).toBeGreaterThan(0);
  await openSection(page, '审核');
  await expect(page.getByRole('region', { name: '审核', exact: true }).locator('tbody tr')).toHaveCount(Math.min(queue.length, 50));
  noErrors();
  await admin.context.close();
});
