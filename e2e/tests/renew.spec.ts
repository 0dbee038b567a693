import { test, expect, Page } from '@playwright/test';
import { ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_PORT, Staff, appReady, register, staffSignedIn, startTokenAgent, watchForErrors, issuingCrlsText } from './support';
import { approve, files, wizard } from './journey';

// 证书延期 (seed 004 §4) with the real agent and a SoftHSM2 UKey, and a PC soft shield: a
// UKey certificate renewed by scan-to-pay, a PC-soft-shield certificate renewed under
// 大客户统一结算; each holder then signs in with the new certificate while the old one is
// superseded in OCSP and the CRL.
//
// A certificate is renewable in its last 90 days. The server has no switch for that: it
// runs under libfaketime (cargo xtask test), and this journey moves the operating system's
// clock it sees 300 days on (CERTDESK_CLOCK_FILE), between buying and renewing.

const clockFile = process.env.CERTDESK_CLOCK_FILE;

interface Holder {
  mobile: string;
  uid: string;
  serial: string;
  medium: string;
  pin: string;
}

async function certificateOf(page: Page, acceptance: string): Promise<{ uid: string; serial: string }> {
  const list: { acceptance_no: string; certificate_uid: string }[] = await (await page.request.get('/api/applications')).json();
  const uid = list.find((a) => a.acceptance_no === acceptance)!.certificate_uid;
  const detail = await (await page.request.get(`/api/public/certificates/${uid}`)).json();
  return { uid, serial: detail.serial.replaceAll(':', '').toLowerCase() };
}

async function download(page: Page, medium: string, acceptance: string, code: string, pin: string) {
  await page.goto('/remote-download');
  await appReady(page);
  await page.getByLabel('介质').selectOption(medium);
  await page.getByLabel('业务受理号').fill(acceptance);
  await page.getByLabel('下载授权码').fill(code);
  await page.getByLabel('PIN码').fill(pin);
  await page.getByRole('button', { name: '下载证书' }).click();
  await expect(page.locator('.download-progress')).toContainText('下载完成，请重新登录系统。 100%', { timeout: 20_000 });
}

async function signInWithToken(page: Page, how: 'UKey登录' | 'PC软盾登录', pin: string) {
  await page.goto('/sign-in');
  await appReady(page);
  await page.getByRole('radio', { name: how }).check();
  await page.getByLabel('PIN码').fill(pin);
  await page.getByRole('button', { name: '立即登录' }).click();
  // 我的证书 is another bundle: wait for it to load before going anywhere else.
  await expect(page).toHaveURL(/\/my-certificates$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('我的证书');
  await appReady(page);
}

/** ③ 证书下载 on the renewal page: the token holding the certificate is chosen already. */
async function downloadRenewed(page: Page, medium: string, pin: string) {
  await expect(page.getByText('请插入存放该证书的介质并输入PIN码')).toBeVisible();
  await expect(page.getByLabel('介质')).toHaveValue(medium);
  await page.getByLabel('PIN码').fill(pin);
  await page.getByRole('button', { name: '下载证书' }).click();
  await expect(page.getByRole('status').filter({ hasText: '下载完成，请重新登录系统' })).toBeVisible({ timeout: 20_000 });
}

/** The old certificate as OpenSSL reads the CRL and asks OCSP: revoked, superseded. */
async function supersededEverywhere(page: Page, baseURL: string, serial: string) {
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-renew-'));
  const save = async (path: string, name: string) => {
    const res = await page.request.get(path);
    expect(res.status()).toBe(200);
    writeFileSync(join(dir, name), await res.body());
    return join(dir, name);
  };
  const crlText = await issuingCrlsText(page.request, dir);
  const entry = crlText.slice(crlText.indexOf(serial.toUpperCase()));
  expect(entry).toMatch(/^[0-9A-F]+\s+Revocation Date:[^\n]*\n\s+CRL entry extensions:\s+X509v3 CRL Reason Code:\s+Superseded/);
  const issuing = await save('/ca/issuing.pem', 'issuing.pem');
  const root = await save('/ca/root.pem', 'root.pem');
  // Verified at the server's moment (its answers are dated 300 days on).
  const at = `${Math.floor(Date.now() / 1000) + 300 * 86400}`;
  const ocsp = spawnSync(
    'openssl',
    ['ocsp', '-issuer', issuing, '-serial', `0x${serial}`, '-url', `${baseURL}/ocsp`, '-CAfile', root, '-verify_other', issuing, '-attime', at],
    { encoding: 'utf8' },
  );
  // The signature and chain verify at that moment; OpenSSL still warns that the answer's
  // times lie ahead of this machine's clock, and then prints the status.
  const out = ocsp.stdout + ocsp.stderr;
  expect(out).toContain('Response verify OK');
  expect(out).toMatch(new RegExp(`0x${serial}: (WARNING: Status times invalid\\.\\s*)?(revoked|\\n)`));
  expect(out).toMatch(/^\s*revoked$/m);
  expect(out).toContain('Reason: superseded');
}

test.describe('renewal with the token agent, a SoftHSM2 UKey and a PC soft shield', () => {
  test.describe.configure({ mode: 'serial' });
  let agent: ChildProcess | undefined;
  let ukey: Holder | undefined;
  let shield: Holder | undefined;
  let staff: Staff | undefined;

  test.beforeAll(async ({ baseURL }) => {
    if (!clockFile) throw new Error('CERTDESK_CLOCK_FILE must name the test server\'s libfaketime file (cargo xtask test sets it)');
    agent = await startTokenAgent(baseURL!, 'UKey Renew');
  });

  test.afterAll(async () => {
    agent?.kill();
    // Back to the real time for whatever runs next.
    if (clockFile) writeFileSync(clockFile, '+0d\n');
  });

  test('a UKey customer paying by QR code and a PC-soft-shield customer under settlement get their certificates', async ({ browser, page, context }) => {
    test.setTimeout(180_000);
    const done = watchForErrors(page);
    staff = await staffSignedIn(browser);

    // The UKey customer: 扫码缴费.
    const first = await register(page, staff, '企业账户');
    const { acceptance } = await wizard(page, context, files(), 'qr');
    const code = await approve(page, staff, acceptance);
    const tokens = await (await fetch(`http://127.0.0.1:${AGENT_PORT}/v1/tokens`, { headers: { origin: new URL(page.url()).origin } })).json();
    const ukeyMedium = tokens.find((t: { label: string }) => t.label === 'UKey Renew').medium_no;
    await download(page, ukeyMedium, acceptance, code, '123456');
    ukey = { mobile: first.mobile, ...(await certificateOf(page, acceptance)), medium: ukeyMedium, pin: '123456' };
    await page.getByRole('button', { name: '退出' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('数字证书自助服务');

    // The PC-soft-shield customer: 大客户统一结算, set by an administrator.
    await page.goto('/agent');
    await appReady(page);
    const make = page.locator('section', { has: page.getByRole('heading', { name: '创建PC软盾' }) });
    await make.getByLabel('软盾名称').fill('延期软盾');
    await make.getByLabel('PIN码', { exact: true }).fill('975318');
    await make.getByLabel('确认新PIN码').fill('975318');
    await make.getByRole('button', { name: '创建PC软盾' }).click();
    await expect(make.getByRole('status')).toContainText('PC软盾已创建，介质编号：SD');
    const shieldMedium = (await make.getByRole('status').textContent())!.match(/SD[0-9A-F]{16}/)![0];
    const second = await register(page, staff, '企业账户');
    await settlement(staff, second.mobile);
    const s = await wizard(page, context, files(), 'settlement', { medium: 'PC软盾' });
    const code2 = await approve(page, staff, s.acceptance);
    await download(page, shieldMedium, s.acceptance, code2, '975318');
    shield = { mobile: second.mobile, ...(await certificateOf(page, s.acceptance)), medium: shieldMedium, pin: '975318' };

    // Today both are months from their end: 延期 says from when it opens.
    await page.goto(`/renew?uid=${shield.uid}`);
    await appReady(page);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('证书延期');
    await expect(page.getByRole('status').filter({ hasText: '该证书有效期最后90天内方可办理延期，自' })).toBeVisible();
    await expect(page.getByRole('button', { name: '提交延期申请' })).toHaveCount(0);
    done();
  });

  test('300 days on, the UKey certificate is renewed by QR payment and signs its holder in; the old one is superseded', async ({ page, context, baseURL }) => {
    test.setTimeout(120_000);
    const h = ukey!;
    writeFileSync(clockFile!, '+300d\n');
    const done = watchForErrors(page);
    // The holder signs in with the UKey as it is.
    await signInWithToken(page, 'UKey登录', h.pin);

    await page.goto(`/renew?uid=${h.uid}`);
    await appReady(page);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('证书延期');
    await expect(page.locator('.stepper li')).toHaveText(['延期申请', '扫码缴费', '证书下载']);
    await expect(page.getByRole('radio', { name: /^一年 · 300元$/ })).toBeChecked();
    await page.getByRole('button', { name: '提交延期申请' }).click();

    // ② 扫码缴费 with 微信支付, on the sandbox page a phone opens.
    await page.getByRole('radio', { name: '微信支付' }).check();
    await expect(page.locator('.qr svg')).toBeVisible();
    const codeUrl = await page.getByRole('link', { name: '在手机上打开支付页面' }).getAttribute('href');
    const phone = await context.newPage();
    await phone.goto(codeUrl!);
    // (The phone's page stays open, as in the wizard's journey: closing it while its
    // confirmation navigates can hang Chromium.)
    await phone.getByRole('button', { name: '确认支付' }).click();

    // ③ 证书下载 onto the same UKey.
    await downloadRenewed(page, h.medium, h.pin);
    await supersededEverywhere(page, baseURL!, h.serial);
    const old = await (await page.request.get(`/api/public/certificates/${h.uid}`)).json();
    expect(old.status).toBe('revoked');

    // 请重新登录系统: the new certificate signs the holder in (the old one could not).
    await page.getByRole('button', { name: '退出' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('数字证书自助服务');
    await signInWithToken(page, 'UKey登录', h.pin);
    await page.goto('/applications');
    await expect(page.getByRole('row', { name: /证书延期/ }).getByRole('cell', { name: '已办结' })).toBeVisible();
    done();
  });

  test('the PC-soft-shield certificate is renewed under settlement, without a payment step, and signs its holder in', async ({ page, baseURL }) => {
    test.setTimeout(120_000);
    const h = shield!;
    const done = watchForErrors(page);
    await signInWithToken(page, 'PC软盾登录', h.pin);
    await page.goto(`/renew?uid=${h.uid}`);
    await appReady(page);
    await expect(page.locator('.stepper li')).toHaveText(['延期申请', '证书下载']);
    await page.getByRole('button', { name: '提交延期申请' }).click();
    await downloadRenewed(page, h.medium, h.pin);
    await supersededEverywhere(page, baseURL!, h.serial);

    await page.getByRole('button', { name: '退出' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('数字证书自助服务');
    await signInWithToken(page, 'PC软盾登录', h.pin);
    done();
  });
});

/** An administrator sets the account's billing to 大客户统一结算 in the console. */
async function settlement(staff: Staff, mobile: string) {
  await staff.page.goto('/admin/settings/billing');
  await appReady(staff.page);
  const billing = staff.page.getByRole('region', { name: '收费类型' });
  await billing.getByLabel('手机号码').fill(mobile);
  await billing.getByRole('button', { name: '查询' }).click();
  await billing.getByLabel(`收费类型 ${mobile}`).selectOption('settlement');
  await expect(staff.page.getByRole('alert').filter({ hasText: /./ })).toHaveCount(0);
}

