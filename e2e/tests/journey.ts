// Journeys the browser tests share: the wizard, a review round, and what follows approval.
import { expect } from '@playwright/test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from '@playwright/test';
import { appReady, openSection, uniqueMobile } from './support';
import type { Staff } from './support';

// 证书新办 (seed 004 §3.1–3.2): two complete journeys, one per billing mode. Register → the
// 7-step wizard with real small files (refusals for bad files and a wrong credit code) →
// pay on the sandbox page (scan-to-pay only) → staff reject with a reason → fix and
// resubmit → staff approve → the SMS holds the download code → the certificate is issued
// for a CSR → invoice requested and issued → tracking number visible.
// The wizard is its own bundle (dist/apply-app), loaded at /apply; staff work in /admin.

/** The operator's phone (经办人手机号码, the certificate's phone of record) of each application
 * the wizard made, by acceptance number: each journey has its own, since a phone takes at most
 * 5 SMS codes an hour, as the gateway allows. */
export const operators = new Map<string, string>();

/** The challenge phrase the journeys choose at step ⑦. */
export const CHALLENGE_PHRASE = '我的撤销密码 2026';

export function files() {
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-apply-'));
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
    'base64',
  );
  const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
  // A scan of about 1.5 MB: big enough for the progress bar to be seen on a slow line.
  const scan = Buffer.concat([pdf, Buffer.alloc(1536 * 1024, 0x20)]);
  // An empty zip archive (end of central directory only).
  const zip = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);
  const exe = Buffer.concat([Buffer.from('MZ\x90\x00'), Buffer.alloc(64)]);
  const big = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(3 * 1024 * 1024, 0x20)]);
  const f = (name: string, b: Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, b);
    return p;
  };
  return {
    licence: f('营业执照.png', png),
    id: f('id.pdf', scan),
    other: f('other.zip', zip),
    exe: f('setup.pdf', exe),
    big: f('big.pdf', big),
  };
}

export type Files = ReturnType<typeof files>;

/** A CSR made by OpenSSL, as a token would make one (the token agent is the next issue). */
export function csr(): string {
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-csr-'));
  execFileSync('openssl', [
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', join(dir, 'key.pem'), '-subj', '/CN=token', '-out', join(dir, 'csr.pem'),
  ], { stdio: 'ignore' });
  return readFileSync(join(dir, 'csr.pem'), 'utf8');
}

/** Who step ② is filled in for: the certificate type chosen at ① asks for its own holder. */
export type HolderType = '机构证书' | '法人证书' | '个人证书';

/** Steps ①–⑤ of the wizard, up to the payment (or, for a settlement customer, ⑦); the
 * operator's phone. */
export async function wizardToPayment(
  page: Page,
  context: BrowserContext,
  f: Files,
  { type = '机构证书', medium = 'UKey' }: { type?: HolderType; medium?: string } = {},
): Promise<string> {
  const operator = uniqueMobile();
  await page.goto('/apply');
  await appReady(page);
  await expect(page.getByRole('heading', { name: '选择证书类型' })).toBeVisible();
  const next = page.getByRole('button', { name: '下一步' });

  // ① 选择证书类型
  await page.getByLabel('项目名称').selectOption({ index: 1 });
  await page.getByLabel('证书类型').selectOption({ label: type });
  await page.getByLabel('介质类型').selectOption({ label: medium });
  await next.click();
  await expect(page).toHaveURL(/\/apply\?id=[^&]+&step=2$/);

  // ② 填写证书信息, in the shape the type asks for.
  if (type === '机构证书') {
    // A wrong credit code is refused under its field, in the browser.
    await expect(page.getByLabel('证件号码')).toHaveCount(0);
    await page.getByLabel('单位名称').fill('天津市滨海数字认证有限公司');
    await page.getByLabel('统一社会信用代码').fill('999999999999999999');
    await page.getByLabel('证书有效期').selectOption({ index: 1 });
    await expect(page.getByLabel('证书有效期')).toContainText(/一年（金额：\d+(\.\d+)?元）/);
    await page.getByLabel('单位电子邮箱').fill('finance@tjbhca.com');
    await page.getByLabel('省份/市').selectOption('天津市');
    await page.getByLabel('城市/区').selectOption('和平区');
    await next.click();
    await expect(page.getByLabel('统一社会信用代码')).toHaveAttribute('aria-invalid', 'true');
    await expect(page).toHaveURL(/step=2$/);
    await page.getByLabel('统一社会信用代码').fill('91350100M000100Y43');
  } else {
    // A person (the holder of a 个人证书, the legal representative of a 法人证书): a wrong
    // check digit is refused under the number, and so is a passport number that is no
    // passport number.
    const person = type === '个人证书';
    await page.getByLabel(person ? '姓名' : '法定代表人姓名', { exact: true }).fill(person ? '李四' : '王五');
    await expect(page.getByLabel('证件类型')).toHaveValue('resident_id');
    await page.getByLabel('证件号码').fill('110105194912310021');
    if (person) {
      await expect(page.getByLabel('单位名称')).toHaveCount(0);
    } else {
      await page.getByLabel('单位名称').fill('天津市滨海数字认证有限公司');
      await page.getByLabel('统一社会信用代码').fill('91350100M000100Y43');
    }
    await page.getByLabel('证书有效期').selectOption({ index: 1 });
    await page.getByLabel(person ? '电子邮箱' : '单位电子邮箱（选填）', { exact: true }).fill('holder@tjbhca.com');
    await page.getByLabel('省份/市').selectOption('天津市');
    await page.getByLabel('城市/区').selectOption('和平区');
    await next.click();
    await expect(page.getByLabel('证件号码')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByText('身份证号码校验位不正确，请核对')).toBeVisible();
    await expect(page).toHaveURL(/step=2$/);
    if (person) {
      await page.getByLabel('证件号码').fill('11010519491231002X');
    } else {
      await page.getByLabel('证件类型').selectOption({ label: '护照' });
      await page.getByLabel('证件号码').fill('E-1234');
      await next.click();
      await expect(page.getByText('护照号码应为5至20位英文字母或数字')).toBeVisible();
      await expect(page).toHaveURL(/step=2$/);
      await page.getByLabel('证件号码').fill('E12345678');
    }
  }
  await next.click();
  await expect(page).toHaveURL(/step=3$/);

  // A reload resumes where the address says, with what was saved.
  await page.reload();
  await appReady(page);
  await page.getByRole('button', { name: '上一步' }).click();
  if (type === '个人证书') {
    await expect(page.getByLabel('姓名', { exact: true })).toHaveValue('李四');
    await expect(page.getByLabel('证件号码')).toHaveValue('11010519491231002X');
  } else {
    await expect(page.getByLabel('单位名称')).toHaveValue('天津市滨海数字认证有限公司');
  }
  await next.click();

  // ③ 资料上传: an .exe named .pdf and a 3 MB file are refused before sending. (A 个人证书
  // asks for the ID document only.)
  await expect(page.getByLabel('经办人身份证件')).toBeVisible();
  const licence = page.getByLabel('营业执照（副本）');
  if (type === '个人证书') {
    await expect(licence).toHaveCount(0);
  } else {
    await licence.setInputFiles(f.exe);
    await expect(page.locator('.field-error')).toContainText(/文件/);
    await licence.setInputFiles(f.big);
    await expect(page.locator('.field-error')).toContainText('文件大小不能超过2M');
    await licence.setInputFiles(f.licence);
    await expect(page.getByRole('link', { name: '营业执照.png' })).toBeVisible();
    // The preview is the stored file, fetched back from the server.
    const preview = page.getByAltText('营业执照.png');
    await expect(preview).toBeVisible();
    await expect.poll(() => preview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(1);
  }
  // On a slow line (1.5 MB at 512 KB/s) the progress bar shows the share sent so far.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 512 * 1024 });
  await page.getByLabel('经办人身份证件').setInputFiles(f.id);
  await expect(page.locator('.upload-progress progress')).toHaveAttribute('value', /^[1-9]\d?$/);
  await expect(page.locator('.upload-progress')).toContainText(/正在上传… \d+%/);
  await expect(page.getByRole('link', { name: 'id.pdf' })).toBeVisible({ timeout: 15_000 });
  await expect(page.locator('.upload-progress')).toHaveCount(0);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await cdp.detach();
  const other = page.getByLabel('其他资料');
  if (await other.count()) {
    await other.setInputFiles(f.other);
    await expect(page.getByRole('link', { name: 'other.zip' })).toBeVisible();
  }
  await next.click();
  await expect(page).toHaveURL(/step=4$/);

  // ④ 填写经办信息
  await page.getByLabel('经办人姓名').fill('张三');
  await page.getByLabel('经办人证件号码').fill('11010519491231002X');
  await page.getByLabel('经办人手机号码').fill(operator);
  await page.getByLabel('经办人电子邮箱').fill('123@tjbhca.com');
  await next.click();
  await expect(page).toHaveURL(/step=5$/);

  // ⑤ 填写邮寄信息
  await page.getByLabel('收件人姓名').fill('张三');
  await page.getByLabel('收件人联系电话').fill(operator);
  await page.getByLabel('收件人地址').fill('天津市空港经济区西七道26号');
  await next.click();
  return operator;
}

/** Steps ①–⑤ (and ⑥ for a scan-to-pay customer), then ⑦ 提交审核; the acceptance number
 * and the application's id. A 机构证书 on a UKey unless told otherwise. */
export async function wizard(
  page: Page,
  context: BrowserContext,
  f: Files,
  pay: 'qr' | 'settlement' | Staff,
  { type = '机构证书', medium = 'UKey' }: { type?: HolderType; medium?: string } = {},
) {
  const operator = await wizardToPayment(page, context, f, { type, medium });
  if (typeof pay === 'object') {
    // ⑥ 转账汇款: our account, the voucher uploaded; finance confirms in the console and the
    // wizard moves on by itself.
    await expect(page).toHaveURL(/step=6$/);
    await page.getByRole('radio', { name: '转账汇款' }).check();
    await expect(page.locator('.transfer .account')).toContainText('开户行');
    await page.getByLabel('缴费凭证').setInputFiles(f.exe);
    await expect(page.locator('.transfer .field-error')).toContainText('文件格式不正确');
    await page.getByLabel('缴费凭证').setInputFiles(f.licence);
    await expect(page.getByText('缴费凭证（营业执照.png）已上传，等待财务确认到账。')).toBeVisible();
    // The QR code made when the step opened can no longer be paid.
    await page.getByRole('radio', { name: '扫码缴费' }).check();
    await expect(page.getByText('您已上传缴费凭证，正在等待财务确认到账，不能再扫码缴费。')).toBeVisible();
    await expect(page.locator('.qr svg')).toHaveCount(0);
    await page.getByRole('radio', { name: '转账汇款' }).check();
    // The newest voucher first (the order is in the address).
    await pay.page.goto('/admin/transfers?sort=-created_at');
    await appReady(pay.page);
    const transfers = pay.page.getByRole('region', { name: '转账确认' });
    await expect(transfers.getByRole('columnheader', { name: '创建时间 ▼' })).toHaveAttribute('aria-sort', 'descending');
    const voucher = transfers.getByRole('row').filter({ hasText: /^TR/ }).first();
    const no = (await voucher.getByRole('cell').first().textContent())!.trim();
    await transfers.getByRole('button', { name: `确认到账 ${no}` }).click();
    await expect(transfers.getByRole('button', { name: `确认到账 ${no}` })).toHaveCount(0);
    await expect(page).toHaveURL(/step=7$/, { timeout: 15_000 });
  } else if (pay === 'qr') {
    // ⑥ 扫码缴费 with 微信支付: the sandbox pay page a phone would open; the wizard moves on
    // by itself.
    await expect(page).toHaveURL(/step=6$/);
    await page.getByRole('radio', { name: '微信支付' }).check();
    await expect(page.getByText(/^请使用微信扫一扫/)).toBeVisible();
    await expect(page.locator('.qr svg')).toBeVisible();
    const codeUrl = await page.getByRole('link', { name: '在手机上打开支付页面' }).getAttribute('href');
    const phone = await context.newPage();
    await phone.goto(codeUrl!);
    await phone.getByRole('button', { name: '确认支付' }).click();
    await expect(page).toHaveURL(/step=7$/, { timeout: 15_000 });
  } else {
    // 大客户统一结算: no payment step.
    await expect(page).toHaveURL(/step=7$/);
  }

  // ⑦ 提交审核, with the challenge phrase (撤销密码) for self-revocation: a mismatch is refused.
  await page.getByLabel('撤销密码', { exact: true }).fill(CHALLENGE_PHRASE);
  await page.getByLabel('确认撤销密码').fill('另一个撤销密码');
  await page.getByRole('button', { name: '提交审核' }).click();
  await expect(page.getByLabel('确认撤销密码')).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('确认撤销密码').fill(CHALLENGE_PHRASE);
  await page.getByRole('button', { name: '提交审核' }).click();
  await expect(page.getByText('您的申请已提交，审核结果会以短信形式告知，请注意查收短信。')).toBeVisible();
  await expect(page.locator('.acceptance-no')).not.toBeEmpty();
  const acceptance = (await page.locator('.acceptance-no').textContent())!.trim();
  const id = new URL(page.url()).searchParams.get('id')!;

  // 我的证书申请
  await page.goto('/applications');
  await expect(page.getByRole('row', { name: new RegExp(acceptance) }).getByRole('cell', { name: '待审核' })).toBeVisible();
  operators.set(acceptance, operator);
  return { acceptance, id, operator };
}

/** Staff reject with a reason, the customer fixes the licence and resubmits, staff approve;
 * answers the download authorization code from the approval SMS. */
export async function reviewRound(page: Page, staff: Staff, f: Files, acceptance: string, id: string): Promise<string> {
  await staff.page.goto(`/admin/review?q=${acceptance}`);
  await appReady(staff.page);
  const review = staff.page.getByRole('region', { name: '审核', exact: true });
  await review.getByRole('button', { name: `查看 ${acceptance}` }).click();
  await review.getByLabel('营业执照（副本）', { exact: true }).fill('营业执照未加盖公章');
  await review.getByRole('button', { name: '审核不通过' }).click();
  await expect(review.getByRole('button', { name: `查看 ${acceptance}` })).toHaveCount(0);

  // The customer sees the reason, replaces only the licence and submits again.
  await page.goto('/applications');
  await appReady(page);
  await expect(page.getByText('营业执照未加盖公章')).toBeVisible();
  await page.goto(`/apply?id=${id}&step=3`);
  await appReady(page);
  await page.getByLabel('营业执照（副本）').setInputFiles(f.licence);
  await page.goto(`/apply?id=${id}&step=7`);
  await appReady(page);
  await page.getByRole('button', { name: '提交审核' }).click();
  await expect(page.getByText('您的申请已提交，审核结果会以短信形式告知，请注意查收短信。')).toBeVisible();

  // Approved: the operator's SMS carries the acceptance number and the download code.
  return approve(page, staff, acceptance);
}

/** Staff approve; the download authorization code from the approval SMS. */
export async function approve(page: Page, staff: Staff, acceptance: string): Promise<string> {
  await staff.page.goto(`/admin/review?q=${acceptance}`);
  await appReady(staff.page);
  const review = staff.page.getByRole('region', { name: '审核', exact: true });
  await review.getByRole('button', { name: `查看 ${acceptance}` }).click();
  await review.getByRole('button', { name: '审核通过' }).click();
  await expect(review.getByRole('button', { name: `查看 ${acceptance}` })).toHaveCount(0);
  const approved = await staff.page.request.get(`/api/admin/sms-outbox?recipient=${operators.get(acceptance)}`);
  const messages: { template: string; body: string }[] = (await approved.json()).items;
  const sms = messages.find((m) => m.template === 'SMS_CD_APPROVED' && m.body.includes(acceptance));
  expect(sms?.body).toMatch(/下载授权码：\d{8}/);
  await page.goto('/applications');
  await expect(page.getByRole('row', { name: new RegExp(acceptance) }).getByRole('cell', { name: '审核通过' })).toBeVisible();
  return sms!.body.match(/下载授权码：(\d{8})/)![1];
}

/** The certificate issued for a fresh CSR, as a token of `mediumKind` would ask: its uid,
 * serial and PEM. */
export async function issue(
  page: Page,
  acceptance: string,
  authCode: string,
  mediumKind: 'ukey' | 'pc_shield' = 'ukey',
): Promise<{ uid: string; serial: string; pem: string }> {
  const issued = await page.request.post('/api/applications/issue', {
    data: { acceptance_no: acceptance, auth_code: authCode, csr_pem: csr(), medium_kind: mediumKind },
  });
  expect(issued.status(), await issued.text()).toBe(200);
  const body = await issued.json();
  expect(body.pem).toContain('BEGIN CERTIFICATE');
  return { uid: body.certificate_uid, serial: body.serial, pem: body.pem };
}

/** The subject as `openssl x509 -subject` prints it (RFC 2253 order, UTF-8 as it is). */
export function opensslSubject(pem: string): string {
  const out = execFileSync('openssl', ['x509', '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb'], { input: pem });
  return out.toString('utf8').trim().replace(/^subject=/, '');
}

/** Issuance for a CSR, then 发票申请 (customer) → 开具发票 (finance) → 查看, and 邮寄
 * (customer service) → 邮寄查询 (customer). */
export async function afterApproval(page: Page, staff: Staff, acceptance: string, authCode: string, tracking: string) {
  // The certificate is issued for the token's CSR, with the number and the code.
  await issue(page, acceptance, authCode);
  await page.goto('/applications');
  await expect(page.getByRole('row', { name: new RegExp(acceptance) }).getByRole('cell', { name: '已签发' })).toBeVisible();

  // 发票申请: the form comes filled with the unit's name, tax number and e-mail.
  await page.getByRole('link', { name: '发票申请' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('发票申请');
  const row = page.getByRole('row', { name: new RegExp(acceptance) });
  await expect(row.getByRole('cell', { name: '未申请' })).toBeVisible();
  await row.getByRole('button', { name: `开具发票 ${acceptance}` }).click();
  await expect(page.getByLabel('名称')).toHaveValue('天津市滨海数字认证有限公司');
  await expect(page.getByLabel('税号')).toHaveValue('91350100M000100Y43');
  await expect(page.getByLabel('邮箱')).toHaveValue('finance@tjbhca.com');
  // A missing bank is refused under its field, and nothing is sent.
  await page.getByLabel('地址').fill('天津市和平区南京路1号');
  await page.getByLabel('电话').fill('022-12345678');
  await page.getByLabel('账号').fill('1234567890123');
  const invoiceForm = page.getByRole('region', { name: /开具发票/ });
  await invoiceForm.getByRole('button', { name: '开具发票' }).click();
  await expect(page.getByLabel('开户行')).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('开户行').fill('中国银行天津分行');
  await invoiceForm.getByRole('button', { name: '开具发票' }).click();
  await expect(row.getByRole('cell', { name: '待开票' })).toBeVisible();

  // Finance issues it in the console; the customer then opens the PDF e-invoice.
  await staff.page.goto(`/admin/invoices?q=${acceptance}`);
  await appReady(staff.page);
  const invoices = staff.page.getByRole('region', { name: '发票申请' });
  await invoices.getByRole('button', { name: `开具发票 ${acceptance}` }).click();
  await expect(invoices.getByRole('button', { name: `开具发票 ${acceptance}` })).toHaveCount(0);
  // 已开票 with its number; finance exports it as CSV that Excel opens with its Chinese text.
  await invoices.getByLabel('开票状态').selectOption('issued');
  await expect(staff.page).toHaveURL(new RegExp(`/admin/invoices\\?status=issued&q=${acceptance}$`));
  await expect(invoices.getByRole('row', { name: new RegExp(acceptance) })).toContainText('已开票');
  const [download] = await Promise.all([
    staff.page.waitForEvent('download'),
    invoices.getByRole('link', { name: '导出 CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('发票申请.csv');
  const csv = readFileSync((await download.path())!, 'utf8');
  expect(csv.charCodeAt(0)).toBe(0xfeff);
  const lines = csv.slice(1).trim().split(/\r?\n/);
  expect(lines[0]).toBe('受理号,业务类型,发票抬头,税号,金额 (元),状态,申请时间 (UTC),发票号码,接收邮箱');
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain(`${acceptance},证书新办,天津市滨海数字认证有限公司,91350100M000100Y43,`);
  expect(lines[1]).toContain(',已开票,');
  await page.reload();
  await appReady(page);
  await expect(row.getByRole('cell', { name: '已开票' })).toBeVisible();
  const pdfHref = await row.getByRole('link', { name: '查看' }).getAttribute('href');
  const pdf = await page.request.get(pdfHref!);
  expect(pdf.headers()['content-type']).toBe('application/pdf');
  expect((await pdf.body()).subarray(0, 5).toString()).toBe('%PDF-');

  // 邮寄 (from the console's side navigation): customer service records the courier and
  // tracking number.
  await openSection(staff.page, '邮寄');
  const shipping = staff.page.getByRole('region', { name: '邮寄', exact: true });
  await expect(shipping.getByLabel(`快递公司 ${acceptance}`)).toHaveValue('顺丰速运');
  await shipping.getByLabel(`快递单号 ${acceptance}`).fill(tracking);
  await shipping.getByRole('button', { name: `保存 ${acceptance}` }).click();
  await expect(shipping.getByLabel(`快递单号 ${acceptance}`)).toHaveCount(0);

  // 邮寄查询: the customer sees them.
  await page.getByRole('link', { name: '邮寄查询' }).click();
  const parcel = page.getByRole('row', { name: new RegExp(acceptance) });
  await expect(parcel.getByRole('cell', { name: tracking })).toBeVisible();
  await expect(parcel.getByRole('cell', { name: '顺丰速运' })).toBeVisible();
}

