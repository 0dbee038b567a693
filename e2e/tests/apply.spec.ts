import { test, expect } from '@playwright/test';
import { appReady, openSection, register, staffSignedIn, watchForErrors } from './support';
import { afterApproval, approve, files, issue, opensslSubject, reviewRound, wizard } from './journey';

// 证书新办 (seed 004 §3.1–3.2): two complete journeys, one per billing mode, and bank
// transfer as the other way to pay. The steps live in journey.ts.

test('a scan-to-pay customer applies, pays by QR code, is sent back once, and gets the certificate, invoice and parcel', async ({ browser, page, context }) => {
  test.setTimeout(90_000);
  const done = watchForErrors(page);
  const staff = await staffSignedIn(browser);
  await register(page, staff, '企业账户');
  const f = files();
  const { acceptance, id } = await wizard(page, context, f, 'qr');
  const authCode = await reviewRound(page, staff, f, acceptance, id);
  await afterApproval(page, staff, acceptance, authCode, `SF${Date.now()}`);
  done();
});

test('a settlement customer skips payment and the approval appears on the monthly statement', async ({ browser, page, context }) => {
  test.setTimeout(90_000);
  const done = watchForErrors(page);
  const staff = await staffSignedIn(browser);
  const { mobile } = await register(page, staff, '企业账户');

  // An administrator finds the account by its phone and sets 大客户统一结算.
  await staff.page.goto('/admin/settings/billing');
  await appReady(staff.page);
  const billing = staff.page.getByRole('region', { name: '收费类型' });
  await billing.getByLabel('手机号码').fill(mobile);
  await billing.getByRole('button', { name: '查询' }).click();
  const mode = billing.getByLabel(`收费类型 ${mobile}`);
  await expect(mode).toHaveValue('scan_to_pay');
  await mode.selectOption('settlement');
  await expect(staff.page.getByRole('alert').filter({ hasText: /./ })).toHaveCount(0);
  await staff.page.reload();
  await appReady(staff.page);
  await billing.getByLabel('手机号码').fill(mobile);
  await billing.getByRole('button', { name: '查询' }).click();
  await expect(billing.getByLabel(`收费类型 ${mobile}`)).toHaveValue('settlement');

  const f = files();
  const { acceptance, id } = await wizard(page, context, f, 'settlement');
  const authCode = await reviewRound(page, staff, f, acceptance, id);

  // 月结对账单: this month's statement lists the approved application.
  await openSection(staff.page, '月结对账单');
  const statement = staff.page.getByRole('region', { name: '月结对账单' });
  await expect(statement.getByRole('row', { name: new RegExp(acceptance) })).toBeVisible();

  await afterApproval(page, staff, acceptance, authCode, `YT${Date.now()}`);
  done();
});

test('a customer pays by bank transfer with a voucher, and finance confirms it', async ({ browser, page, context }) => {
  test.setTimeout(60_000);
  const done = watchForErrors(page);
  const staff = await staffSignedIn(browser);
  await register(page, staff, '企业账户');
  await wizard(page, context, files(), staff);
  done();
});

test('a 个人证书 and a 法人证书 are applied for and issued in their holders\' names', async ({ browser, page, context }) => {
  test.setTimeout(120_000);
  const done = watchForErrors(page);
  const staff = await staffSignedIn(browser);
  await register(page, staff, '企业账户');
  const f = files();
  // The person's own name; the legal representative's name in the organisation. A person's
  // ID number is never written into the certificate; the unit's credit code is.
  const cases = [
    { type: '个人证书', want: (no: string) => `CN=李四,OU=${no},ST=天津市,L=和平区,C=CN` },
    {
      type: '法人证书',
      want: (no: string) => `CN=王五,OU=91350100M000100Y43,OU=${no},ST=天津市,L=和平区,O=天津市滨海数字认证有限公司,C=CN`,
    },
  ] as const;
  for (const { type, want } of cases) {
    const { acceptance } = await wizard(page, context, f, 'qr', { type });
    // The reviewer sees the holder.
    await staff.page.goto(`/admin/review?q=${acceptance}`);
    await appReady(staff.page);
    const review = staff.page.getByRole('region', { name: '审核', exact: true });
    await review.getByRole('button', { name: `查看 ${acceptance}` }).click();
    await expect(review.getByRole('row', { name: /姓名/ }).first()).toContainText(type === '个人证书' ? '李四' : '王五');
    const code = await approve(page, staff, acceptance);
    const { pem } = await issue(page, acceptance, code);
    expect(opensslSubject(pem)).toBe(want(acceptance));
  }
  done();
});
