import { test, expect, Page } from '@playwright/test';
import { ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AGENT_PORT, Staff, appReady, register, requestSmsCode, signInWithPassword, smsCode, staffSignedIn, startTokenAgent,
  uniqueMobile, watchForErrors, issuingCrlsText } from './support';
import { approve, files, opensslSubject, wizard } from './journey';

// 证书变更 and 经办人变更 (seed 004 §5) with the real agent and a SoftHSM2 UKey: an
// organisation renames itself (signed in with its UKey): documents, the new name, the
// operator, review showing the change old → new, then the new certificate downloaded onto
// the same token, whose subject has the new O, while the old one is superseded in OCSP and
// the CRL. Then, signed in with the password, an operator change: once approved, 证书解锁
// takes the new operator's phone only.

const NEW_NAME = '天津市滨海数字认证科技有限公司';
/** The operator's phone the wizard's journey gives (journey.ts). */

interface Holder {
  mobile: string;
  password: string;
  uid: string;
  serial: string;
  medium: string;
  staff: Staff;
}

async function signInWithUKey(page: Page, pin: string) {
  await page.goto('/sign-in');
  await appReady(page);
  await page.getByRole('radio', { name: 'UKey登录' }).check();
  await page.getByLabel('PIN码').fill(pin);
  await page.getByRole('button', { name: '立即登录' }).click();
  await expect(page).toHaveURL(/\/my-certificates$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('我的证书');
  await appReady(page);
}

/** From 我的证书, the button of the valid certificate of `uid`. */
async function startFrom(page: Page, uid: string, button: '证书变更' | '经办人变更') {
  const card = page.locator('section.cert', { has: page.locator(`a[href="/change?uid=${uid}"], a[href="/operator-change?uid=${uid}"]`) });
  await card.getByRole('link', { name: button }).click();
  await appReady(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(button);
}

/** Staff open the request, see `change` among the changed fields, and approve it. */
async function reviewChange(staff: Staff, acceptance: string, change: RegExp) {
  await staff.page.goto(`/admin/review?q=${acceptance}`);
  await appReady(staff.page);
  const review = staff.page.getByRole('region', { name: '审核', exact: true });
  await review.getByRole('button', { name: `查看 ${acceptance}` }).click();
  const table = review.locator('table', { has: staff.page.locator('caption', { hasText: '变更内容' }) });
  await expect(table.getByRole('row').filter({ hasText: change })).toBeVisible();
  await review.getByRole('button', { name: '审核通过' }).click();
  await expect(review.getByRole('button', { name: `查看 ${acceptance}` })).toHaveCount(0);
}

async function acceptanceOn(page: Page): Promise<string> {
  const line = page.getByText(/^业务受理号：BH\d{14}$/);
  await expect(line).toBeVisible();
  return (await line.textContent())!.match(/BH\d{14}/)![0];
}

test.describe('change of details with the token agent and a SoftHSM2 UKey', () => {
  test.describe.configure({ mode: 'serial' });
  let agent: ChildProcess | undefined;
  let holder: Holder | undefined;
  // The operator's phone the wizard gave: the phone of record until the operator change.
  let oldPhone = '';

  test.beforeAll(async ({ baseURL }) => {
    agent = await startTokenAgent(baseURL!, 'UKey Change');
  });

  test.afterAll(async () => {
    agent?.kill();
  });

  test('an organisation renames itself: review sees the change, the new certificate goes onto the same token, the old one is superseded', async ({ browser, page, context, baseURL }) => {
    test.setTimeout(240_000);
    const done = watchForErrors(page);
    const staff = await staffSignedIn(browser);
    const { mobile, password } = await register(page, staff, '企业账户');
    const { acceptance, operator } = await wizard(page, context, files(), 'qr');
    oldPhone = operator;
    const code = await approve(page, staff, acceptance);
    const asPortal = { headers: { origin: baseURL! } };
    const tokens = await (await fetch(`http://127.0.0.1:${AGENT_PORT}/v1/tokens`, asPortal)).json();
    const medium = tokens.find((t: { label: string }) => t.label === 'UKey Change').medium_no;
    await page.goto('/remote-download');
    await appReady(page);
    await page.getByLabel('介质').selectOption(medium);
    await page.getByLabel('业务受理号').fill(acceptance);
    await page.getByLabel('下载授权码').fill(code);
    await page.getByLabel('PIN码').fill('123456');
    await page.getByRole('button', { name: '下载证书' }).click();
    await expect(page.locator('.download-progress')).toContainText('下载完成，请重新登录系统。 100%', { timeout: 20_000 });
    const list: { acceptance_no: string; certificate_uid: string }[] = await (await page.request.get('/api/applications')).json();
    const uid = list.find((a) => a.acceptance_no === acceptance)!.certificate_uid;
    const detail = await (await page.request.get(`/api/public/certificates/${uid}`)).json();
    const serial: string = detail.serial.replaceAll(':', '').toLowerCase();
    await page.getByRole('button', { name: '退出' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('数字证书自助服务');

    // Signed in with the UKey: 我的证书 → 证书变更.
    await signInWithUKey(page, '123456');
    await startFrom(page, uid, '证书变更');
    await expect(page.locator('.stepper li')).toHaveText(['资料上传', '证书信息变更', '经办人信息变更', '提交审核', '证书下载']);
    await page.getByRole('button', { name: '证书变更', exact: true }).click();

    // ① 资料上传: nothing chosen yet is refused; then the new licence and the rest.
    const f = files();
    await page.getByRole('button', { name: '下一步' }).click();
    await expect(page.locator('.field.invalid')).toHaveCount(3);
    await page.getByLabel('营业执照（副本）').setInputFiles(f.licence);
    await page.getByLabel('经办人身份证件').setInputFiles(f.id);
    await page.getByLabel('其他资料').setInputFiles(f.other);
    await expect(page.locator('.preview')).toHaveCount(3, { timeout: 20_000 });
    await page.getByRole('button', { name: '下一步' }).click();

    // ② 证书信息变更: the unit's name as it is, changed to the new one.
    await expect(page.getByLabel('单位名称')).toHaveValue('天津市滨海数字认证有限公司');
    await page.getByLabel('单位名称').fill(NEW_NAME);
    await page.getByRole('button', { name: '下一步' }).click();

    // ③ 经办人信息变更: the operator as they are; 提交.
    await expect(page.getByLabel('经办人手机号码')).toHaveValue(oldPhone);
    await page.getByRole('button', { name: '提交', exact: true }).click();
    await expect(page.getByRole('status').filter({ hasText: '您的申请已提交，审核结果会以短信形式告知，请注意查收短信。审核通过后，请进行证书下载。' })).toBeVisible();
    const number = await acceptanceOn(page);

    // Staff see the name old → new beside the documents, and approve; the result comes by SMS.
    await reviewChange(staff, number, new RegExp(`单位名称.*天津市滨海数字认证有限公司.*→.*${NEW_NAME}`));
    const sms: { template: string; body: string }[] = (await (await staff.page.request.get(`/api/admin/sms-outbox?recipient=${mobile}`)).json()).items;
    expect(sms.find((m) => m.template === 'SMS_CD_REQUEST_APPROVED' && m.body.includes(number))?.body).toContain('证书变更');

    // ⑤ 证书下载 onto the same UKey, with the note on electronic seals.
    await page.reload();
    await appReady(page);
    await expect(page.getByText('证书变更审核通过，请点击下载证书。')).toBeVisible();
    await expect(page.getByText(/应用了电子签章功能的用户.*电子印章须按新证书重新制作/)).toBeVisible();
    await expect(page.getByLabel('介质')).toHaveValue(medium);
    await page.getByLabel('PIN码').fill('123456');
    await page.getByRole('button', { name: '下载证书' }).click();
    await expect(page.getByRole('status').filter({ hasText: '下载完成，请重新登录系统' })).toBeVisible({ timeout: 20_000 });

    // The token holds the new certificate under the change's number; its subject has the new O.
    const certs = await (await fetch(`http://127.0.0.1:${AGENT_PORT}/v1/tokens/${medium}/certificates`, asPortal)).json();
    expect(certs.filter((c: { has_key: boolean; label: string }) => c.has_key && c.label === number)).toHaveLength(1);
    const mine: { uid: string; status: string }[] = await (await page.request.get('/api/my-certificates')).json();
    const fresh = mine.find((c) => c.status === 'valid')!;
    expect(mine.find((c) => c.uid === uid)!.status).toBe('superseded');
    const pem = await (await page.request.get(`/api/certificates/${fresh.uid}.pem`)).text();
    const subject = opensslSubject(pem);
    expect(subject).toContain(`O=${NEW_NAME}`);
    expect(subject).toContain(`CN=${NEW_NAME}`);
    expect(subject).toContain(`OU=${number}`);

    // The old certificate: revoked as superseded in the public status, the CRL and OCSP.
    const old = await (await page.request.get(`/api/public/certificates/${uid}`)).json();
    expect(old.status).toBe('revoked');
    await supersededEverywhere(page, baseURL!, serial);
    const newSerial = (await (await page.request.get(`/api/public/certificates/${fresh.uid}`)).json()).serial.replaceAll(':', '').toLowerCase();
    holder = { mobile, password, uid: fresh.uid, serial: newSerial, medium, staff };
    done();
  });

  test('after an operator change, 证书解锁 takes the new operator\'s phone only', async ({ page }) => {
    test.setTimeout(180_000);
    const h = holder!;
    const done = watchForErrors(page);
    const newPhone = uniqueMobile();

    // Signed in with the password this time.
    await signInWithPassword(page, h.mobile, h.password);
    await appReady(page);
    await startFrom(page, h.uid, '经办人变更');
    await expect(page.locator('.stepper li')).toHaveText(['资料上传', '经办人资料变更', '提交审核']);
    await page.getByRole('button', { name: '经办人变更', exact: true }).click();
    await page.getByLabel('经办人身份证件').setInputFiles(files().id);
    await expect(page.locator('.preview')).toHaveCount(1, { timeout: 20_000 });
    await page.getByRole('button', { name: '下一步' }).click();
    await page.getByLabel('经办人姓名').fill('李四');
    await page.getByLabel('经办人手机号码').fill(newPhone);
    await page.getByRole('button', { name: '提交', exact: true }).click();
    await expect(page.getByRole('status').filter({ hasText: '您的经办人资料变更申请已提交，审核结果会以短信形式告知，请注意查收短信。' })).toBeVisible();
    const number = await acceptanceOn(page);
    await reviewChange(h.staff, number, new RegExp(`经办人手机号码.*${oldPhone}.*→.*${newPhone}`));

    // The certificate's phone of record is the new operator's.
    const mine = await (await page.request.get(`/api/my-certificates/${h.uid}`)).json();
    expect(mine.phone_masked).toBe(`${newPhone.slice(0, 3)}****${newPhone.slice(7)}`);

    // 证书解锁 with the old phone: its code is no key to this token any more.
    await page.goto('/unlock');
    await appReady(page);
    await expect(page.getByLabel('介质')).toContainText('UKey Change');
    await page.getByLabel('手机号码').fill(oldPhone);
    await requestSmsCode(page);
    const oldCode = await smsCode(h.staff, oldPhone, 'SMS_CD_UNLOCK');
    await page.getByRole('textbox', { name: '短信验证码' }).fill(oldCode);
    await page.getByLabel('新PIN码', { exact: true }).fill('246813');
    await page.getByLabel('确认新PIN码').fill('246813');
    await page.getByRole('button', { name: '证书解锁' }).click();
    await expect(page.getByRole('alert').filter({ hasText: '该介质上没有此手机号账户下的证书，无法解锁' })).toBeVisible();

    // The new operator's phone opens it.
    await page.goto('/unlock');
    await appReady(page);
    await page.getByLabel('手机号码').fill(newPhone);
    await requestSmsCode(page);
    const newCode = await smsCode(h.staff, newPhone, 'SMS_CD_UNLOCK');
    await page.getByRole('textbox', { name: '短信验证码' }).fill(newCode);
    await page.getByLabel('新PIN码', { exact: true }).fill('246813');
    await page.getByLabel('确认新PIN码').fill('246813');
    await page.getByRole('button', { name: '证书解锁' }).click();
    await expect(page.getByRole('status').filter({ hasText: '解锁成功，新PIN码已生效。' })).toBeVisible();
    done();
  });
});

/** The old certificate as OpenSSL reads the CRL and asks OCSP: revoked, superseded. */
async function supersededEverywhere(page: Page, baseURL: string, serial: string) {
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-change-'));
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
  const ocsp = spawnSync(
    'openssl',
    ['ocsp', '-issuer', issuing, '-serial', `0x${serial}`, '-url', `${baseURL}/ocsp`, '-CAfile', root, '-verify_other', issuing],
    { encoding: 'utf8' },
  );
  const out = ocsp.stdout + ocsp.stderr;
  expect(out).toContain('Response verify OK');
  expect(out).toMatch(new RegExp(`0x${serial}: revoked`));
  expect(out).toContain('Reason: superseded');
}
