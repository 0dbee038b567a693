import { test, expect } from '@playwright/test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appReady, register, staffSignedIn, watchForErrors } from './support';

// 证书新办 (seed 004 §3.1): the 7-step wizard as a customer, with real small files, the
// sandbox payment page, and refusals for bad files and a wrong credit code.
// The wizard is its own bundle (dist/apply-app), loaded at /apply.

function files() {
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-apply-'));
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
    'base64',
  );
  const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
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
    id: f('id.pdf', pdf),
    other: f('other.zip', zip),
    exe: f('setup.pdf', exe),
    big: f('big.pdf', big),
  };
}

test('a customer applies for a new certificate and pays by QR code', async ({ browser, page, context }) => {
  const done = watchForErrors(page);
  const staff = await staffSignedIn(browser);
  await register(page, staff, '企业账户');
  await page.goto('/apply');
  await appReady(page);
  await expect(page.getByRole('heading', { name: '选择证书类型' })).toBeVisible();
  const f = files();
  const next = page.getByRole('button', { name: '下一步' });

  // ① 选择证书类型
  await page.getByLabel('项目名称').selectOption({ index: 1 });
  await page.getByLabel('证书类型').selectOption({ index: 1 });
  await page.getByLabel('介质类型').selectOption({ index: 1 });
  await next.click();
  await expect(page).toHaveURL(/\/apply\?id=[^&]+&step=2$/);

  // ② 填写证书信息: a wrong credit code is refused under its field, in the browser.
  await page.getByLabel('单位名称').fill('天津市滨海数字认证有限公司');
  await page.getByLabel('统一社会信用代码').fill('999999999999999999');
  await page.getByLabel('证书有效期').selectOption({ index: 1 });
  await expect(page.getByLabel('证书有效期')).toContainText(/一年（金额：\d+(\.\d+)?元）/);
  await page.getByLabel('省份/市').selectOption('天津市');
  await page.getByLabel('城市/区').selectOption('和平区');
  await next.click();
  await expect(page.getByLabel('统一社会信用代码')).toHaveAttribute('aria-invalid', 'true');
  await expect(page).toHaveURL(/step=2$/);
  await page.getByLabel('统一社会信用代码').fill('91350100M000100Y43');
  await next.click();
  await expect(page).toHaveURL(/step=3$/);

  // A reload resumes where the address says, with what was saved.
  await page.reload();
  await appReady(page);
  await page.getByRole('button', { name: '上一步' }).click();
  await expect(page.getByLabel('单位名称')).toHaveValue('天津市滨海数字认证有限公司');
  await next.click();

  // ③ 资料上传: an .exe named .pdf and a 3 MB file are refused before sending.
  const licence = page.getByLabel('营业执照（副本）');
  await licence.setInputFiles(f.exe);
  await expect(page.locator('.field-error')).toContainText(/文件/);
  await licence.setInputFiles(f.big);
  await expect(page.locator('.field-error')).toContainText('文件大小不能超过2M');
  await licence.setInputFiles(f.licence);
  await expect(page.getByText('营业执照.png')).toBeVisible();
  await page.getByLabel('经办人身份证件').setInputFiles(f.id);
  await expect(page.getByText('id.pdf')).toBeVisible();
  const other = page.getByLabel('其他资料');
  if (await other.count()) {
    await other.setInputFiles(f.other);
    await expect(page.getByText('other.zip')).toBeVisible();
  }
  await next.click();
  await expect(page).toHaveURL(/step=4$/);

  // ④ 填写经办信息
  await page.getByLabel('经办人姓名').fill('张三');
  await page.getByLabel('经办人证件号码').fill('11010519491231002X');
  await page.getByLabel('经办人手机号码').fill('18622503055');
  await page.getByLabel('经办人电子邮箱').fill('123@tjbhca.com');
  await next.click();
  await expect(page).toHaveURL(/step=5$/);

  // ⑤ 填写邮寄信息
  await page.getByLabel('收件人姓名').fill('张三');
  await page.getByLabel('收件人联系电话').fill('18622503055');
  await page.getByLabel('收件人地址').fill('天津市空港经济区西七道26号');
  await next.click();
  await expect(page).toHaveURL(/step=6$/);

  // ⑥ 扫码缴费: the sandbox pay page a phone would open; the wizard moves on by itself.
  await expect(page.locator('.qr svg')).toBeVisible();
  const codeUrl = await page.getByRole('link', { name: '在手机上打开支付页面' }).getAttribute('href');
  const phone = await context.newPage();
  await phone.goto(codeUrl!);
  await phone.getByRole('button', { name: '确认支付' }).click();
  await expect(page).toHaveURL(/step=7$/, { timeout: 15_000 });

  // ⑦ 提交审核
  await page.getByRole('button', { name: '提交审核' }).click();
  await expect(page.getByText('您的申请已提交，审核结果会以短信形式告知，请注意查收短信。')).toBeVisible();
  await expect(page.locator('.acceptance-no')).not.toBeEmpty();
  const acceptance = (await page.locator('.acceptance-no').textContent())!.trim();
  const id = new URL(page.url()).searchParams.get('id')!;

  // 我的证书申请
  await page.goto('/applications');
  await expect(page.getByRole('cell', { name: '待审核' })).toBeVisible();

  // The reviewer sends it back with a reason for the licence.
  await staff.page.goto('/admin');
  await appReady(staff.page);
  const review = staff.page.getByRole('region', { name: '审核', exact: true });
  await review.getByRole('button', { name: `查看 ${acceptance}` }).click();
  await review.getByLabel('营业执照（副本）', { exact: true }).fill('营业执照未加盖公章');
  await review.getByRole('button', { name: '审核不通过' }).click();
  await expect(review.getByRole('button', { name: `查看 ${acceptance}` })).toHaveCount(0);

  // The customer sees the reason, replaces only the licence and submits again.
  await page.reload();
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
  await staff.page.reload();
  await appReady(staff.page);
  await review.getByRole('button', { name: `查看 ${acceptance}` }).click();
  await review.getByRole('button', { name: '审核通过' }).click();
  await expect(review.getByRole('button', { name: `查看 ${acceptance}` })).toHaveCount(0);
  const approved = await staff.page.request.get('/api/admin/sms-outbox?recipient=18622503055');
  const messages: { template: string; body: string }[] = await approved.json();
  const sms = messages.find((m) => m.template === 'SMS_CD_APPROVED');
  expect(sms?.body).toContain(acceptance);
  expect(sms?.body).toMatch(/下载授权码：\d{8}/);
  await page.goto('/applications');
  await expect(page.getByRole('cell', { name: '审核通过' })).toBeVisible();
  done();
});
