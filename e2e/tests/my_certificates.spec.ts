import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { appReady, keepScreenshot, register, signInWithPassword, signOut, staffSignedIn, watchForErrors } from './support';
import { CHALLENGE_PHRASE, approve, files, issue, wizard } from './journey';

// 我的证书 (seed 002 §2.2, seed 004 §4.1.3): after signing in the holder lands on the
// account's certificates in the tabs 有效 / 冻结 / 失效, each with its 证书信息 panel, the
// PEM and DER downloads and only the operations open for it; revoked, it moves to 失效.

test('after signing in, 我的证书 shows the certificate with 证书信息, downloads it, and lists it under 失效 once revoked', async ({ browser, page, context }) => {
  test.setTimeout(120_000);
  const noErrors = watchForErrors(page);
  const staff = await staffSignedIn(browser);
  const { mobile, password } = await register(page, staff, '企业账户');
  const { acceptance } = await wizard(page, context, files(), 'qr');

  // Nothing issued yet: every tab is empty.
  await page.goto('/my-certificates');
  await appReady(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('我的证书');
  const tabs = page.getByRole('navigation', { name: '证书状态' });
  await expect(tabs.getByRole('link', { name: '有效的证书 (0)' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByText('无数据')).toBeVisible();

  const authCode = await approve(page, staff, acceptance);
  const { uid, serial } = await issue(page, acceptance, authCode);

  // Signed in again with the password, the holder lands on 我的证书.
  await signOut(page);
  await signInWithPassword(page, mobile, password);
  await expect(tabs.getByRole('link', { name: '有效的证书 (1)' })).toHaveAttribute('aria-current', 'page');
  await expect(tabs.getByRole('link', { name: '冻结的证书 (0)' })).toBeVisible();
  await expect(tabs.getByRole('link', { name: '失效的证书 (0)' })).toBeVisible();
  const card = page.getByRole('region', { name: /天津市滨海数字认证有限公司/ });
  await expect(card.getByRole('heading', { level: 2 })).toContainText('有效');
  const field = (label: string) => card.locator(`dt:text-is("${label}") + dd`);
  await expect(field('通用名')).toHaveText('天津市滨海数字认证有限公司');
  await expect(field('所属机构名称')).toHaveText('天津市滨海数字认证有限公司');
  await expect(field('证书类型')).toContainText('机构证书');
  await expect(field('国家')).toHaveText('中国');
  await expect(field('省份')).toHaveText('天津市');
  await expect(field('城市')).toHaveText('和平区');
  await expect(field('电子邮箱')).toHaveText('finance@tjbhca.com');
  await expect(field('有效起始时间')).toHaveText(/^\d{4}-\d{2}-\d{2}$/);
  await expect(field('有效结束时间')).toHaveText(/^\d{4}-\d{2}-\d{2}$/);
  await expect(field('证书序列号')).toHaveText(serial.toUpperCase());
  await expect(field('介质编号')).toHaveText('—');
  await expect(field('信任服务号')).toHaveText(acceptance);
  await expect(page).toHaveTitle(/^我的证书 - CertDesk/);
  await keepScreenshot(page, 'my-certificates');

  // A fresh one-year certificate: 延期 is not open yet, only the day it opens is said.
  const mine = await (await page.request.get('/api/my-certificates')).json();
  expect(mine[0].renewable).toBe(false);
  await expect(card.getByRole('link', { name: '证书延期' })).toHaveCount(0);
  await expect(card.getByText(`可于 ${mine[0].renewable_from} 起办理延期`)).toBeVisible();
  // What is open for it: its page (撤销), 证书校验, 证书注销, 冻结, 证书补办 (it was applied
  // for on a UKey); not 证书解锁 (it is on no token yet).
  await expect(card.getByRole('link', { name: '证书详情' })).toHaveAttribute('href', `/certificates/${uid}`);
  await expect(card.getByRole('link', { name: '证书校验' })).toBeVisible();
  await expect(card.getByRole('link', { name: '证书解锁' })).toHaveCount(0);
  await expect(card.getByRole('link', { name: '证书注销' })).toHaveAttribute('href', `/revoke?uid=${uid}`);
  await expect(card.getByRole('button', { name: '冻结' })).toBeVisible();
  await expect(card.getByRole('link', { name: '证书补办' })).toHaveAttribute('href', `/reissue?uid=${uid}`);

  // The downloads are the issued certificate, as PEM and as DER.
  const issuedPem = await (await page.request.get(`/api/certificates/${uid}.pem`)).text();
  const [pem] = await Promise.all([page.waitForEvent('download'), card.getByRole('link', { name: '下载证书（PEM）' }).click()]);
  const pemText = readFileSync((await pem.path())!, 'utf8');
  expect(pemText).toContain('-----BEGIN CERTIFICATE-----');
  expect(pemText).toBe(issuedPem);
  const [der] = await Promise.all([page.waitForEvent('download'), card.getByRole('link', { name: '下载证书（DER）' }).click()]);
  const body = issuedPem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
  expect(readFileSync((await der.path())!).equals(Buffer.from(body, 'base64'))).toBe(true);

  // 证书详情 is the public page, where the holder revokes with the challenge phrase.
  await card.getByRole('link', { name: '证书详情' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('证书信息');
  await page.getByRole('button', { name: '撤销证书' }).click();
  await page.getByLabel('撤销密码').fill(CHALLENGE_PHRASE);
  await page.getByLabel('撤销原因').selectOption({ label: '密钥泄露' });
  await page.getByRole('button', { name: '提交' }).click();
  await expect(page.getByText('证书已成功撤销。')).toBeVisible();

  // From 用户中心 back to 我的证书 (the header): now under 失效的证书.
  await page.goto('/account');
  await appReady(page);
  await page.getByRole('banner').getByRole('link', { name: '我的证书', exact: true }).click();
  await expect(page).toHaveURL(/\/my-certificates$/);
  await expect(tabs.getByRole('link', { name: '有效的证书 (0)' })).toBeVisible();
  await expect(page.getByText('无数据')).toBeVisible();
  await tabs.getByRole('link', { name: '失效的证书 (1)' }).click();
  await expect(page).toHaveURL(/\/my-certificates\?tab=invalid$/);
  await expect(card.getByRole('heading', { level: 2 })).toContainText('已撤销');
  await expect(card.getByRole('link', { name: '下载证书（PEM）' })).toBeVisible();
  await expect(card.getByRole('link', { name: '证书校验' })).toHaveCount(0);
  await expect(card.getByText(/办理延期/)).toHaveCount(0);
  noErrors();
});

test('signed out, 我的证书 sends the visitor to sign in and back', async ({ page }) => {
  await page.goto('/my-certificates');
  await expect(page).toHaveURL(/\/sign-in\?next=(%2F|\/)my-certificates$/);
  await expect(page.getByRole('button', { name: '立即登录' })).toBeVisible();
});
