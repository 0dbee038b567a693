import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { serverEnv } from '../playwright.config';
import { appReady, keepScreenshot, register, staffSignedIn, watchForErrors, type Staff } from './support';

// 通知消息 (seed 003 §1.3.4) in 用户中心: an expiry notice with its 延期 link and 标为已读.
// Sending is the API tests' part (they run the domain function with a future clock); here
// the notice row is put into the test server's SQLite database the way a run writes it,
// and the page is checked.

let staff: Staff;
test.beforeEach(async ({ browser }) => {
  staff = await staffSignedIn(browser);
});
test.afterEach(async () => {
  await staff.context.close();
});

/** Writes a 30-day notice for the account of `mobile` into the test server's database. */
function noticeFor(mobile: string, certificateUid: string) {
  const dir = serverEnv.CERTDESK_DATA_DIR;
  if (!dir || serverEnv.DATABASE_URL) test.skip(true, 'needs the test server\'s SQLite data directory (CERTDESK_DATA_DIR)');
  const sql = `INSERT INTO expiry_notice (id, account_id, certificate_uid, threshold_days, subject, not_after, created_at)
    SELECT '${randomUUID()}', id, '${certificateUid}', 30, '天津滨海测试有限公司', '2027-01-31T16:00:00+00:00', '2027-01-02T00:00:00+00:00'
    FROM account WHERE mobile = '${mobile}';`;
  execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(dir as string, 'certdesk.db'), sql]);
}

test('an expiry notice links to 延期 and is marked read', async ({ page }) => {
  test.setTimeout(90_000);
  const noErrors = watchForErrors(page);
  const { mobile } = await register(page, staff, '企业账户');
  const notices = page.getByRole('region', { name: /^通知消息/ });
  await expect(notices).toContainText('暂无通知消息');

  const uid = randomUUID();
  noticeFor(mobile, uid);
  await page.reload();
  await appReady(page);
  await expect(notices.getByRole('heading', { name: /通知消息/ })).toContainText('1 条未读');
  await expect(notices).toContainText('您的证书“天津滨海测试有限公司”将于 2027-02-01 到期，请及时办理延期。');
  await expect(notices).toContainText('到期前 30 天提醒');
  const renew = notices.getByRole('link', { name: '延期证书 天津滨海测试有限公司' });
  await expect(renew).toHaveAttribute('href', `/renew?uid=${uid}`);
  await keepScreenshot(page, 'account-notices-zh-CN');

  await notices.getByRole('button', { name: '标为已读' }).click();
  await expect(notices.getByText('已读', { exact: true })).toBeVisible();
  await expect(notices.getByRole('heading', { name: /通知消息/ })).not.toContainText('未读');
  await page.reload();
  await appReady(page);
  await expect(notices.getByText('已读', { exact: true })).toBeVisible();
  await expect(notices.getByRole('button', { name: '标为已读' })).toHaveCount(0);
  noErrors();
});
