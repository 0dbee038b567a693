import { test, expect, Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appReady, issuingCrlsText, masked, register, smsCode, staffSignedIn, watchForErrors } from './support';
import { approve, files, issue, wizard } from './journey';

// 证书注销 by request (seed 004 §7), 冻结/解冻 in 我的证书 (seed 002 §2.2) and the revocation by
// the CA under dual control. The operator's phone the wizard gave is the phone of record; its
// SMS codes are read from the sandbox gateway's outbox.


/** The CRL's text and OCSP's answer for `serial`, by OpenSSL. */
async function published(page: Page, baseURL: string, serial: string): Promise<{ crl: string; ocsp: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-revoke-'));
  const save = async (path: string, name: string) => {
    const res = await page.request.get(path);
    expect(res.status()).toBe(200);
    writeFileSync(join(dir, name), await res.body());
    return join(dir, name);
  };
  const crl = await issuingCrlsText(page.request, dir);
  const issuing = await save('/ca/issuing.pem', 'issuing.pem');
  const root = await save('/ca/root.pem', 'root.pem');
  const r = spawnSync(
    'openssl',
    ['ocsp', '-issuer', issuing, '-serial', `0x${serial}`, '-url', `${baseURL}/ocsp`, '-CAfile', root, '-verify_other', issuing],
    { encoding: 'utf8' },
  );
  return { crl, ocsp: r.stdout + r.stderr };
}

test('证书注销: the holder sends the form, the ID and the SMS code; once staff approve, search, the bulletin, the CRL and OCSP say revoked', async ({ browser, page, context, baseURL }) => {
  test.setTimeout(150_000);
  const noErrors = watchForErrors(page);
  const staff = await staffSignedIn(browser);
  const { mobile } = await register(page, staff, '企业账户');
  const { acceptance, operator } = await wizard(page, context, files(), 'qr');
  const { uid, serial } = await issue(page, acceptance, await approve(page, staff, acceptance));

  // From 我的证书 to 证书注销 for this certificate.
  await page.goto('/my-certificates');
  await appReady(page);
  const card = page.getByRole('region', { name: /天津市滨海数字认证有限公司/ });
  await card.getByRole('link', { name: '证书注销' }).click();
  await expect(page).toHaveURL(new RegExp(`/revoke\\?uid=${uid}$`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('证书注销');
  await expect(page.locator('dt:text-is("证书序列号") + dd')).toHaveText(serial.toUpperCase());

  // ① the reason, then the cancellation form and the holder's ID.
  await page.getByLabel('撤销原因').selectOption({ label: '隶属关系变更' });
  await page.getByRole('button', { name: '确认注销原因' }).click();
  await page.getByRole('button', { name: '下一步' }).click();
  await expect(page.getByText('此项为必填项').first()).toBeVisible();
  const f = files();
  await page.getByLabel('注销申请表').setInputFiles(f.licence);
  await page.getByLabel('证书持有人身份证件').setInputFiles(f.id);
  await expect(page.locator('.preview')).toHaveCount(2);
  await page.getByRole('button', { name: '下一步' }).click();

  // ② the code goes to the phone of record, shown masked; a wrong one is refused.
  await expect(page.getByText(`经办人手机号码：${masked(operator)}`)).toBeVisible();
  await page.getByRole('button', { name: '获取验证码' }).click();
  await expect(page.getByText(`验证码已发送至${masked(operator)}`)).toBeVisible();
  const code = await smsCode(staff, operator, 'SMS_CD_CERTIFICATE');
  await page.getByLabel('短信验证码').fill(code === '000000' ? '111111' : '000000');
  await page.getByRole('button', { name: '下一步' }).click();
  await expect(page.getByText('短信验证码错误或已失效')).toBeVisible();
  await page.getByLabel('短信验证码').fill(code);
  await page.getByRole('button', { name: '下一步' }).click();
  await expect(page.getByText('您的注销申请已提交，审核结果会以短信形式告知，请注意查收短信。')).toBeVisible();
  const offer = await (await page.request.get(`/api/revoke/${uid}`)).json();
  const number: string = offer.request.acceptance_no;
  await expect(page.getByText(`业务受理号：${number}`)).toBeVisible();

  // Valid until staff decide: they see the certificate and the reason, and approve.
  expect((await published(page, baseURL!, serial)).ocsp).toContain(': good');
  await staff.page.goto(`/admin/review?q=${number}`);
  await appReady(staff.page);
  const review = staff.page.getByRole('region', { name: '审核', exact: true });
  await review.getByRole('button', { name: `查看 ${number}` }).click();
  const detail = review.getByRole('region', { name: number });
  await expect(detail.getByRole('row', { name: /业务类型/ })).toContainText('证书注销');
  await expect(detail.getByRole('row', { name: /撤销原因/ })).toContainText('隶属关系变更');
  await review.getByRole('button', { name: '审核通过' }).click();
  await expect(review.getByRole('button', { name: `查看 ${number}` })).toHaveCount(0);

  // Revoked for good, with the holder's reason, everywhere.
  const { crl, ocsp } = await published(page, baseURL!, serial);
  expect(crl).toContain(serial.toUpperCase());
  expect(ocsp).toContain(': revoked');
  expect(ocsp).toContain('affiliationChanged');
  await page.goto('/bulletin');
  await appReady(page);
  await page.getByLabel('名称或序列号').fill(serial.toUpperCase());
  await page.getByRole('button', { name: '查询' }).click();
  await expect(page.getByRole('row', { name: new RegExp(serial) }).getByRole('cell', { name: '隶属关系变更' })).toBeVisible();
  await page.goto('/search');
  await appReady(page);
  await page.getByLabel('电子邮箱', { exact: true }).fill('finance@tjbhca.com');
  await page.getByRole('radio', { name: '已撤销', exact: true }).check();
  await page.getByRole('button', { name: '查询', exact: true }).first().click();
  await expect(page.locator(`a[href="/certificates/${uid}"]`)).toBeVisible();
  await page.goto('/my-certificates?tab=invalid');
  await appReady(page);
  await expect(card.getByRole('heading', { level: 2 })).toContainText('已撤销');
  await expect(card.getByRole('link', { name: '证书注销' })).toHaveCount(0);
  // The result goes to the account's phone.
  const done = await staff.page.request.get(`/api/admin/sms-outbox?recipient=${mobile}`);
  expect((await done.json()).items.some((m: { body: string }) => m.body.includes(number) && m.body.includes('已办理完成'))).toBe(true);
  noErrors();
});

test('冻结 at once from 我的证书, 解冻 with the code of the phone of record', async ({ browser, page, context, baseURL }) => {
  test.setTimeout(120_000);
  const noErrors = watchForErrors(page);
  const staff = await staffSignedIn(browser);
  await register(page, staff, '企业账户');
  const { acceptance, operator } = await wizard(page, context, files(), 'qr');
  const { serial } = await issue(page, acceptance, await approve(page, staff, acceptance));

  await page.goto('/my-certificates');
  await appReady(page);
  const tabs = page.getByRole('navigation', { name: '证书状态' });
  const card = page.getByRole('region', { name: /天津市滨海数字认证有限公司/ });
  await card.getByRole('button', { name: '冻结' }).click();
  await expect(card.getByText(/确定冻结该证书吗/)).toBeVisible();
  await card.getByRole('button', { name: '确定冻结' }).click();
  await expect(tabs.getByRole('link', { name: '冻结的证书 (1)' })).toBeVisible();
  const held = await published(page, baseURL!, serial);
  expect(held.ocsp).toContain(': revoked');
  expect(held.ocsp).toContain('certificateHold');

  await tabs.getByRole('link', { name: '冻结的证书 (1)' }).click();
  await expect(card.getByRole('heading', { level: 2 })).toContainText('冻结');
  await card.getByRole('button', { name: '获取验证码' }).click();
  await expect(card.getByText(`验证码已发送至${masked(operator)}`)).toBeVisible();
  const code = await smsCode(staff, operator, 'SMS_CD_CERTIFICATE');
  await card.getByLabel('短信验证码').fill(code);
  await card.getByRole('button', { name: '解冻' }).click();
  await expect(tabs.getByRole('link', { name: '有效的证书 (1)' })).toBeVisible();
  expect((await published(page, baseURL!, serial)).ocsp).toContain(': good');
  noErrors();
});

test('a revocation asked for by staff does nothing until a second staff member approves it', async ({ browser, page, context, baseURL }) => {
  test.setTimeout(150_000);
  const first = await staffSignedIn(browser);
  const second = await staffSignedIn(browser);
  await register(page, first, '企业账户');
  const { acceptance } = await wizard(page, context, files(), 'qr');
  const { serial } = await issue(page, acceptance, await approve(page, first, acceptance));

  // The first member finds it by serial and asks, with a reason and a comment.
  await first.page.goto('/admin/revocations');
  await appReady(first.page);
  const mine = first.page.getByRole('region', { name: '证书冻结与吊销' });
  await mine.getByLabel('证书序列号').fill(serial.toUpperCase());
  await mine.getByRole('button', { name: '查询' }).click();
  await mine.getByLabel('撤销原因').selectOption({ label: '密钥泄露' });
  await mine.getByLabel('说明').fill('持有人来电报告私钥泄露');
  await mine.getByRole('button', { name: '申请吊销' }).click();
  const row = mine.getByRole('row', { name: new RegExp(serial.toUpperCase()) });
  await expect(row.getByRole('cell', { name: '待第二人审批' })).toBeVisible();
  await expect(row.getByRole('button', { name: '批准吊销' })).toHaveCount(0);
  // (The server refuses the asker's own approval too: the API tests check `own_revocation`.)
  const list = await (await first.page.request.get('/api/admin/revocations')).json();
  expect(list.find((r: { serial: string }) => r.serial === serial.toUpperCase()).may_decide).toBe(false);
  expect((await published(page, baseURL!, serial)).ocsp).toContain(': good');

  // The second member approves: revoked with the reason asked.
  await second.page.goto('/admin/revocations');
  await appReady(second.page);
  const theirs = second.page.getByRole('region', { name: '证书冻结与吊销' });
  const pending = theirs.getByRole('row', { name: new RegExp(serial.toUpperCase()) });
  await expect(pending.getByRole('cell', { name: '持有人来电报告私钥泄露' })).toBeVisible();
  await pending.getByRole('button', { name: '批准吊销' }).click();
  await expect(pending.getByRole('cell', { name: /已批准，证书已吊销/ })).toBeVisible();
  const { crl, ocsp } = await published(page, baseURL!, serial);
  expect(crl).toContain(serial.toUpperCase());
  expect(ocsp).toContain(': revoked');
  expect(ocsp).toContain('keyCompromise');
  const trail = (await (await second.page.request.get('/api/admin/audit?per_page=200')).json()).items;
  for (const action of ['revocation_requested', 'revocation_approved']) {
    expect(trail.some((e: { action: string; subject: string }) => e.action === action && e.subject === serial)).toBe(true);
  }
});
