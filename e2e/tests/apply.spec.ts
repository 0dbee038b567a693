import { test, expect } from '@playwright/test';
import { appReady, register, staffSignedIn, watchForErrors } from './support';
import { afterApproval, files, reviewRound, wizard } from './journey';

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
  await staff.page.goto('/admin');
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
  await staff.page.reload();
  await appReady(staff.page);
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
