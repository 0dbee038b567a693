import { test, expect, Page } from '@playwright/test';
import { ChildProcess, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_PORT, appReady, masked, register, smsCode, staffSignedIn, startTokenAgent, watchForErrors, issuingCrlsText } from './support';
import { approve, files, wizard } from './journey';

// 证书补办 / 密钥恢复 (seed 004 §6, seed 002 §2.2) with the real agent and SoftHSM2: a UKey
// bought through the portal is reported lost from 我的证书; its certificate is frozen as soon
// as the request is submitted (before any review); the holder verifies the phone of record
// by SMS, chooses the post and pays the reissue price by QR code; staff approve, which
// revokes the old certificate (keyCompromise) in the CRL, OCSP and the public search; the
// lost token is gone, a NEW SoftHSM2 token is plugged in, and the new certificate — same
// subject, new key — goes onto it and signs the holder in.


async function mediumOf(page: Page, label: string): Promise<string> {
  const origin = new URL(page.url()).origin;
  const tokens = await (await fetch(`http://127.0.0.1:${AGENT_PORT}/v1/tokens`, { headers: { origin } })).json();
  return tokens.find((t: { label: string }) => t.label === label).medium_no;
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

async function signInWithUkey(page: Page, pin: string) {
  await page.goto('/sign-in');
  await appReady(page);
  await page.getByRole('radio', { name: 'UKey登录' }).check();
  await page.getByLabel('PIN码').fill(pin);
  await page.getByRole('button', { name: '立即登录' }).click();
  await expect(page).toHaveURL(/\/my-certificates$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('我的证书');
  await appReady(page);
}

/** The certificate as OpenSSL reads the CRL and asks OCSP: its CRL reason and OCSP answer. */
async function revocationOf(page: Page, baseURL: string, serial: string): Promise<{ crl: string; ocsp: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-reissue-'));
  const save = async (path: string, name: string) => {
    const res = await page.request.get(path);
    expect(res.status()).toBe(200);
    writeFileSync(join(dir, name), await res.body());
    return join(dir, name);
  };
  const crlText = await issuingCrlsText(page.request, dir);
  const at = crlText.indexOf(serial.toUpperCase());
  const entry = at < 0 ? '' : crlText.slice(at).split('Serial Number:')[0];
  const issuing = await save('/ca/issuing.pem', 'issuing.pem');
  const root = await save('/ca/root.pem', 'root.pem');
  const ocsp = spawnSync(
    'openssl',
    ['ocsp', '-issuer', issuing, '-serial', `0x${serial}`, '-url', `${baseURL}/ocsp`, '-CAfile', root, '-verify_other', issuing],
    { encoding: 'utf8' },
  );
  const out = ocsp.stdout + ocsp.stderr;
  expect(out).toContain('Response verify OK');
  return { crl: entry, ocsp: out };
}

test.describe('证书补办 of a lost UKey onto a new SoftHSM2 token', () => {
  let agent: ChildProcess | undefined;

  test.beforeAll(async ({ baseURL }) => {
    agent = await startTokenAgent(baseURL!, 'UKey Lost');
  });

  test.afterAll(async () => {
    agent?.kill();
  });

  test('reported lost, frozen at once, paid, approved, the old certificate revoked, the new one on a new token', async ({ browser, page, context, baseURL }) => {
    test.setTimeout(300_000);
    const done = watchForErrors(page);
    const staff = await staffSignedIn(browser);
    await register(page, staff, '企业账户');
    const f = files();
    const bought = await wizard(page, context, f, 'qr');
    const operatorPhone = bought.operator;
    const authCode = await approve(page, staff, bought.acceptance);
    const lostMedium = await mediumOf(page, 'UKey Lost');
    await download(page, lostMedium, bought.acceptance, authCode, '123456');
    const old = await certificateOf(page, bought.acceptance);

    // 我的证书 offers 证书补办 on the UKey certificate.
    await page.goto('/my-certificates');
    await appReady(page);
    await page.locator('#main').getByRole('link', { name: '证书补办' }).click();
    await expect(page).toHaveURL(new RegExp(`/reissue\\?uid=${old.uid}$`));
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('证书补办');
    await expect(page.getByRole('heading', { name: '证书补办材料要求' })).toBeVisible();
    await expect(page.getByRole('row', { name: /补办价格/ })).toContainText('50');
    await page.getByRole('radio', { name: /UKey遗失/ }).check();
    await page.getByRole('button', { name: '申请补办' }).click();

    // ① 资料上传
    await expect(page.locator('.stepper li')).toHaveText(['资料上传', '短信验证', '证书领取方式', '扫码缴费', '提交审核', '证书下载']);
    const next = page.getByRole('button', { name: '下一步' });
    await expect(next).toBeDisabled();
    await page.getByLabel('营业执照（副本）').setInputFiles(f.licence);
    await expect(page.getByRole('link', { name: '营业执照.png' })).toBeVisible();
    await page.getByLabel('经办人身份证件').setInputFiles(f.id);
    await expect(page.getByRole('link', { name: 'id.pdf' })).toBeVisible({ timeout: 15_000 });
    await page.getByLabel('其他资料').setInputFiles(f.other);
    await expect(page.getByRole('link', { name: 'other.zip' })).toBeVisible();
    await next.click();

    // ② 短信验证: the code goes to the phone of record, shown masked; a wrong one is refused.
    await expect(page.getByText(`经办人手机号码：${masked(operatorPhone)}`)).toBeVisible();
    await page.getByRole('button', { name: '获取验证码' }).click();
    const code = await smsCode(staff, operatorPhone, 'SMS_CD_CERTIFICATE');
    await page.getByLabel('短信验证码').fill(code === '000000' ? '111111' : '000000');
    await next.click();
    await expect(page.getByRole('alert').filter({ hasText: '短信验证码错误或已失效' })).toBeVisible();
    await page.getByLabel('短信验证码').fill(code);
    await next.click();

    // ③ 领取方式: the new UKey by post.
    await expect(page.getByLabel('证书领取方式')).toBeVisible();
    await page.getByLabel('证书领取方式').selectOption('post');
    await page.getByLabel('收件人姓名').fill('张三');
    await page.getByLabel('收件人联系电话').fill(operatorPhone);
    await page.getByLabel('收件人地址').fill('天津市空港经济区西七道26号');
    await next.click();

    // ④ 扫码缴费 at the reissue price (支付宝 this time), on the sandbox page a phone opens;
    // then to review.
    await page.getByRole('radio', { name: '支付宝' }).check();
    await expect(page.getByText(/^请使用支付宝扫一扫/)).toBeVisible();
    await expect(page.locator('.qr svg')).toBeVisible();
    await expect(page.locator('.pay .amount')).toHaveText('金额：50元');
    const codeUrl = await page.getByRole('link', { name: '在手机上打开支付页面' }).getAttribute('href');
    const phone = await context.newPage();
    await phone.goto(codeUrl!);
    await phone.getByRole('button', { name: '确认支付' }).click();
    await expect(page.getByText('您的证书补办申请已提交，审核结果会以短信形式告知，请注意查收短信。')).toBeVisible({ timeout: 20_000 });
    await expect(page.getByText('原证书已冻结。')).toBeVisible();
    const acceptance = (await page.getByText(/业务受理号：BH\d+/).textContent())!.match(/BH\d+/)![0];

    // Frozen at once, before any review: 我的证书 lists it under 冻结, and the CRL holds it.
    await page.goto('/my-certificates?tab=frozen');
    await appReady(page);
    await expect(page.locator('section.cert')).toHaveCount(1);
    await expect(page.locator('section.cert h2')).toContainText('已冻结');
    const held = await revocationOf(page, baseURL!, old.serial);
    expect(held.crl).toContain('Certificate Hold');

    // Staff open it (its 补办申请表 names the reason) and approve.
    await staff.page.goto(`/admin/review?q=${acceptance}`);
    await appReady(staff.page);
    const review = staff.page.getByRole('region', { name: '审核', exact: true });
    await review.getByRole('button', { name: `查看 ${acceptance}` }).click();
    const form = await review.getByRole('link', { name: '打印申请表' }).getAttribute('href');
    const pdf = await staff.page.request.get(form!);
    expect([pdf.status(), pdf.headers()['content-type']]).toEqual([200, 'application/pdf']);
    await review.getByRole('button', { name: '审核通过' }).click();
    await expect(review.getByRole('button', { name: `查看 ${acceptance}` })).toHaveCount(0);

    // The old certificate is revoked for good: keyCompromise in the CRL and OCSP, 已撤销 in
    // the public search.
    const revoked = await revocationOf(page, baseURL!, old.serial);
    expect(revoked.crl).toContain('Key Compromise');
    expect(revoked.ocsp).toMatch(new RegExp(`0x${old.serial}: revoked`));
    expect(revoked.ocsp).toContain('Reason: keyCompromise');
    const visitor = await (await browser.newContext()).newPage();
    await visitor.goto('/search');
    await appReady(visitor);
    await visitor.getByRole('radio', { name: '按电子邮箱查询（推荐）' }).check();
    await visitor.getByLabel('电子邮箱', { exact: true }).fill('finance@tjbhca.com');
    await visitor.getByRole('radio', { name: '已撤销', exact: true }).check();
    await visitor.getByRole('button', { name: '查询', exact: true }).first().click();
    await expect(visitor.locator(`a[href="/certificates/${old.uid}"]`)).toBeVisible();

    // The lost token is gone; the new UKey (another SoftHSM2 token) is plugged in.
    agent?.kill();
    await expect
      .poll(async () => fetch(`http://127.0.0.1:${AGENT_PORT}/v1/info`).then(() => true).catch(() => false), { timeout: 15_000 })
      .toBe(false);
    agent = await startTokenAgent(baseURL!, 'UKey New');
    const newMedium = await mediumOf(page, 'UKey New');
    expect(newMedium).not.toBe(lostMedium);

    // 证书下载 onto the new UKey with a new key pair.
    await page.goto(`/reissue?uid=${old.uid}`);
    await appReady(page);
    await expect(page.getByText('请插入新的UKey（不是遗失或损坏的原介质）')).toBeVisible();
    await expect(page.getByLabel('介质')).toHaveValue(newMedium);
    await page.getByLabel('PIN码').fill('123456');
    await page.getByRole('button', { name: '下载证书到新UKey' }).click();
    await expect(page.getByRole('status').filter({ hasText: '证书补办完成，新证书已下载到新的UKey中。' })).toBeVisible({ timeout: 20_000 });

    // 我的证书: the new certificate is valid on the new medium, with the old subject.
    const mine: { uid: string; status: string; panel: { medium_no: string; common_name: string; serial: string } }[] =
      await (await page.request.get('/api/my-certificates')).json();
    const fresh = mine.find((c) => c.uid !== old.uid)!;
    const gone = mine.find((c) => c.uid === old.uid)!;
    expect([fresh.status, fresh.panel.medium_no, gone.status]).toEqual(['valid', newMedium, 'revoked']);
    expect(fresh.panel.common_name).toBe('天津市滨海数字认证有限公司');
    const onToken: { pem: string; has_key: boolean }[] = await (
      await fetch(`http://127.0.0.1:${AGENT_PORT}/v1/tokens/${newMedium}/certificates`, { headers: { origin: new URL(page.url()).origin } })
    ).json();
    const stored = onToken.filter((c) => c.has_key);
    expect(stored).toHaveLength(1);
    const serialOnToken = execFileSync('openssl', ['x509', '-noout', '-serial'], { input: stored[0].pem, encoding: 'utf8' });
    expect(serialOnToken.trim().replace(/^serial=/, '').replace(/^0+/, '')).toBe(fresh.panel.serial.replace(/^0+/, ''));

    // The new UKey signs the holder in.
    await page.getByRole('button', { name: '退出' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('数字证书自助服务');
    await signInWithUkey(page, '123456');
    await page.goto('/applications');
    await expect(page.getByRole('row', { name: /证书补办/ }).getByRole('cell', { name: '已办结' })).toBeVisible();
    done();
  });
});
