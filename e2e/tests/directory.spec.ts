import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appReady, register, staffSignedIn, watchForErrors, issuingCrlsText } from './support';
import { CHALLENGE_PHRASE, approve, files, issue, wizard } from './journey';

// 查询服务 without signing in (seed 000, seed 003 §1.4): a certificate issued in this test
// is found by e-mail with the status filters, its page downloads it, its holder revokes it
// with the challenge phrase (a wrong one refused), and search, the bulletin, the CRL and
// OCSP all show it revoked.

test('the public finds a certificate and its holder revokes it with the challenge phrase', async ({ browser, page, context, baseURL }) => {
  test.setTimeout(90_000);
  const staff = await staffSignedIn(browser);
  await register(page, staff, '企业账户');
  const { acceptance, operator } = await wizard(page, context, files(), 'qr');
  const authCode = await approve(page, staff, acceptance);
  const { uid, serial } = await issue(page, acceptance, authCode);

  // A visitor, not signed in.
  const visitorContext = await browser.newContext();
  const visitor = await visitorContext.newPage();
  const done = watchForErrors(visitor);
  await visitor.goto('/search');
  await appReady(visitor);
  await expect(visitor.getByRole('heading', { level: 1 })).toHaveText('查询服务');
  const search = async (status: string) => {
    await visitor.getByRole('radio', { name: status, exact: true }).check();
    await visitor.getByRole('button', { name: '查询', exact: true }).first().click();
  };
  const link = visitor.locator(`a[href="/certificates/${uid}"]`);
  // No wildcards.
  await visitor.getByRole('radio', { name: '按名称查询' }).check();
  await visitor.getByLabel('证书名称', { exact: true }).fill('天津市*');
  await visitor.getByRole('button', { name: '查询', exact: true }).first().click();
  await expect(visitor.getByLabel('证书名称', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await visitor.getByRole('radio', { name: '按电子邮箱查询（推荐）' }).check();
  await visitor.getByLabel('电子邮箱', { exact: true }).fill('finance@tjbhca.com');
  await search('有效');
  await expect(link).toBeVisible();
  await search('已过期');
  await expect(visitor.locator('.results')).toBeVisible();
  await expect(link).toHaveCount(0);
  await search('全部');
  await expect(link).toBeVisible();

  // 业务进度查询: one field is not enough; two give the status and nothing else.
  const progress = visitor.getByRole('region', { name: '业务进度查询' });
  await progress.getByLabel('业务受理号').fill(acceptance);
  await progress.getByRole('button', { name: '查询' }).click();
  await expect(progress.getByLabel('业务受理号')).toHaveAttribute('aria-invalid', 'true');
  await progress.getByLabel('经办人手机号码').fill(operator);
  await progress.getByRole('button', { name: '查询' }).click();
  await expect(progress.getByRole('status')).toHaveText(/办理状态：\s*已签发/);

  // The detail page: status, serial, downloads.
  await link.click();
  await expect(visitor.getByRole('heading', { level: 1 })).toHaveText('证书信息');
  await expect(visitor.locator('.status')).toHaveText('有效');
  await expect(visitor.locator('code').first()).toHaveText(serial);
  // Contact data masked: the e-mail, and the operator's ID number nowhere on the page.
  await expect(visitor.getByRole('row', { name: /电子邮箱/ })).toContainText('f***@tjbhca.com');
  await expect(visitor.locator('main')).not.toContainText('finance@tjbhca.com');
  const [download] = await Promise.all([
    visitor.waitForEvent('download'),
    visitor.getByRole('link', { name: '下载证书（PEM）' }).click(),
  ]);
  expect(readFileSync(await download.path()!, 'utf8')).toContain('-----BEGIN CERTIFICATE-----');

  // A wrong phrase is refused; the right one revokes at once.
  await visitor.getByRole('button', { name: '撤销证书' }).click();
  await visitor.getByLabel('撤销密码').fill('猜一个撤销密码');
  await visitor.getByLabel('撤销原因').selectOption({ label: '密钥泄露' });
  await visitor.getByRole('button', { name: '提交' }).click();
  await expect(visitor.getByRole('alert').filter({ hasText: '撤销密码不正确' })).toBeVisible();
  await expect(visitor.locator('.status')).toHaveText('有效');
  await visitor.getByLabel('撤销密码').fill(CHALLENGE_PHRASE);
  await visitor.getByRole('button', { name: '提交' }).click();
  await expect(visitor.getByText('证书已成功撤销。')).toBeVisible();
  await expect(visitor.locator('.status')).toHaveText('已撤销');

  // Search with 已撤销 finds it; 有效 no longer does.
  await visitor.goto('/search');
  await appReady(visitor);
  await visitor.getByLabel('电子邮箱', { exact: true }).fill('finance@tjbhca.com');
  await search('已撤销');
  await expect(link).toBeVisible();
  await search('有效');
  await expect(visitor.locator('.results')).toBeVisible();
  await expect(link).toHaveCount(0);

  // 注销公告: found by its serial, with the reason; the CA files are listed.
  await visitor.goto('/bulletin');
  await appReady(visitor);
  await visitor.getByLabel('名称或序列号').fill(serial.toUpperCase());
  await visitor.getByRole('button', { name: '查询' }).click();
  const row = visitor.getByRole('row', { name: new RegExp(serial) });
  await expect(row.getByRole('cell', { name: '密钥泄露' })).toBeVisible();
  await expect(visitor.locator('.fingerprint').first()).toHaveText(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

  // The CRL and OCSP, read by OpenSSL.
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-directory-'));
  const save = async (path: string, name: string) => {
    const res = await visitor.request.get(path);
    expect(res.status()).toBe(200);
    writeFileSync(join(dir, name), await res.body());
    return join(dir, name);
  };
  const crlText = await issuingCrlsText(visitor.request, dir);
  expect(crlText).toContain(serial.toUpperCase());
  const issuing = await save('/ca/issuing.pem', 'issuing.pem');
  const root = await save('/ca/root.pem', 'root.pem');
  const ocsp = execFileSync(
    'openssl',
    ['ocsp', '-issuer', issuing, '-serial', `0x${serial}`, '-url', `${baseURL}/ocsp`, '-CAfile', root, '-verify_other', issuing],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  expect(ocsp).toContain(': revoked');
  expect(ocsp).toContain('keyCompromise');
  done();
  await visitorContext.close();
});
