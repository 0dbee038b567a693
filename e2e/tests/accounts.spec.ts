import { test, expect } from '@playwright/test';
import {
  addVirtualAuthenticator,
  appReady,
  keepScreenshot,
  openSignIn,
  register,
  requestSmsCode,
  openAccount,
  signInWithPassword,
  signOut,
  smsCode,
  staffSignedIn,
  watchForErrors,
  type Staff,
} from './support';

// Codes are read from the sandbox SMS outbox by a staff member, so each journey starts one.
let staff: Staff;
test.beforeEach(async ({ browser }) => {
  staff = await staffSignedIn(browser);
});
test.afterEach(async () => {
  await staff.context.close();
});

test('register, change the password, sign in with a captcha, reset a forgotten password', async ({ page }) => {
  test.setTimeout(120_000);
  const noErrors = watchForErrors(page);

  // 注册: an enterprise account.
  const { mobile, password } = await register(page, staff, '企业账户');
  await expect(page.getByRole('banner').getByText('张三')).toBeVisible();
  const info = page.getByRole('region', { name: '用户信息' });
  await expect(info.getByText('天津滨海测试有限公司')).toBeVisible();
  await expect(info.getByText('91350100M000100Y43')).toBeVisible();
  await expect(info.getByText(mobile)).toBeVisible();
  await expect(info.getByText('11010519491231002X')).toHaveCount(0); // shown masked only
  await keepScreenshot(page, 'account-centre');

  // 用户信息: edit the basic information.
  await info.getByRole('button', { name: '修改基本信息' }).click();
  await info.getByLabel('电子邮箱').fill('zhangsan@example.com');
  await info.getByRole('button', { name: '保存' }).click();
  await expect(info.getByText('已保存')).toBeVisible();
  await expect(info.getByText('zhangsan@example.com')).toBeVisible();

  // 修改密码.
  const changed = `修改后的密码 ${mobile}`;
  const pw = page.getByRole('region', { name: '修改密码' });
  await pw.getByLabel('当前密码').fill(password);
  await pw.getByLabel('新密码', { exact: true }).fill(changed);
  await pw.getByLabel('确认新密码').fill(`${changed}!`);
  await pw.getByRole('button', { name: '修改密码' }).click();
  await expect(pw.getByText('两次输入的密码不一致')).toBeVisible();
  await expect(pw.getByLabel('确认新密码')).toHaveAccessibleDescription('两次输入的密码不一致');
  await pw.getByLabel('确认新密码').fill(changed);
  await pw.getByRole('button', { name: '修改密码' }).click();
  await expect(pw.getByText('密码已修改')).toBeVisible();
  await signOut(page);

  // 登录 with the old password fails (and brings a new captcha), then the new one works.
  const answer = await openSignIn(page);
  await page.getByLabel('用户名（手机号）').fill(mobile);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.getByLabel('验证码', { exact: true }).fill(answer);
  await page.getByRole('checkbox', { name: /我已阅读并同意/ }).check();
  const next = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/captcha');
  await page.getByRole('button', { name: '立即登录' }).click();
  await expect(page.getByRole('alert')).toContainText('用户名或密码错误');
  expect((await next).headers()['x-captcha-answer']).not.toBe(answer);
  await expect(page.getByLabel('验证码', { exact: true })).toHaveValue('');
  await signInWithPassword(page, mobile, changed);
  await openAccount(page);
  const history = page.getByRole('region', { name: '登录记录' });
  await expect(history.getByRole('row').filter({ hasText: '失败' }).first()).toBeVisible();
  await signOut(page);

  // 忘记密码: ID number, phone and SMS code, then a new password chosen on the page.
  await page.goto('/sign-in');
  await appReady(page);
  await page.getByRole('link', { name: '忘记密码' }).click();
  await expect(page).toHaveURL(/\/forgot-password$/);
  await expect(page.getByText('我们不会通过短信发送密码')).toBeVisible();
  await page.getByLabel('身份证号码').fill('11010519491231002X');
  await page.getByLabel('手机号码').fill(mobile);
  // 获取验证码 needs the image captcha first.
  await page.getByRole('button', { name: '获取验证码' }).click();
  await expect(page.getByLabel('图形验证码', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await requestSmsCode(page);
  await expect(page.getByRole('button', { name: /^\d+秒后可再次发送$/ })).toBeDisabled();
  const code = await smsCode(staff, mobile, 'SMS_CD_RESET');
  await page.getByLabel('短信验证码').fill(code);
  const reset = `找回后的密码 ${mobile}`;
  await page.getByLabel('新密码', { exact: true }).fill(reset);
  await page.getByLabel('确认新密码').fill(reset);
  await page.getByRole('button', { name: '重置密码' }).click();
  await expect(page.getByText('密码已重置，请使用新密码登录')).toBeVisible();
  await page.getByRole('main').getByRole('link', { name: '登录' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await signInWithPassword(page, mobile, reset);
  noErrors();
});

test('the register form shows each rule under its field, as the server would', async ({ page }) => {
  const noErrors = watchForErrors(page);
  await page.goto('/register');
  await appReady(page);
  const credit = page.getByLabel('统一社会信用代码');
  await credit.fill('91350100M000100Y44');
  await credit.blur();
  await expect(credit).toHaveAccessibleDescription('统一社会信用代码校验位不正确，请核对');
  await expect(credit).toHaveAttribute('aria-invalid', 'true');
  await credit.fill('91350100M000100Y43');
  await credit.blur();
  await expect(credit).toHaveAttribute('aria-invalid', 'false');
  // Submitting names every missing field and the unticked agreement.
  await page.getByRole('button', { name: '注册', exact: true }).click();
  await expect(page.getByRole('alert').first()).toBeVisible();
  await expect(page.getByLabel('单位名称')).toBeFocused();
  await expect(page.getByText('请阅读并勾选《电子认证服务协议》')).toBeVisible();
  await expect(page.getByLabel('手机号码')).toHaveAccessibleDescription(/此项为必填项/);
  // Personal accounts have no organisation fields; departments no credit code.
  await page.getByRole('radio', { name: '个人账户' }).check();
  await expect(page.getByLabel('单位名称')).toHaveCount(0);
  await expect(page.getByLabel('姓名', { exact: true })).toBeVisible();
  await page.getByRole('radio', { name: '主管部门账户' }).check();
  await expect(page.getByLabel('主管部门名称')).toBeVisible();
  await expect(page.getByLabel('统一社会信用代码')).toHaveCount(0);
  await page.getByRole('link', { name: '《电子认证服务协议》' }).click();
  // The agreement opens in a new tab; the page itself is reachable directly.
  await page.goto('/agreement');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('电子认证服务协议');
  await page.setViewportSize({ width: 375, height: 812 });
  await page.goto('/register');
  await appReady(page);
  // The page is a lazy chunk of its bundle: measure it once it is drawn.
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('注册');
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  await keepScreenshot(page, 'register-375px');
  noErrors();
});

test('a customer adds a security key and signs in with it, without a password', async ({ browser }) => {
  test.setTimeout(120_000);
  const context = await browser.newContext();
  const page = await context.newPage();
  const noErrors = watchForErrors(page);
  await addVirtualAuthenticator(context, page);
  const { mobile, password } = await register(page, staff, '个人账户');

  const keys = page.getByRole('region', { name: '安全密钥' });
  await expect(keys.getByText('尚未登记安全密钥')).toBeVisible();
  await keys.getByLabel('密钥名称').fill('测试密钥');
  // Adding a key asks for the password again: without it, nothing happens.
  await keys.getByRole('button', { name: '添加安全密钥' }).click();
  await expect(keys.getByLabel('当前密码')).toHaveAttribute('aria-invalid', 'true');
  await keys.getByLabel('当前密码').fill(password);
  await keys.getByRole('button', { name: '添加安全密钥' }).click();
  await expect(keys.getByRole('listitem').filter({ hasText: '测试密钥' })).toBeVisible();
  await signOut(page);

  await page.goto('/sign-in');
  await appReady(page);
  await page.getByRole('radio', { name: '安全密钥登录' }).check();
  await expect(page.getByLabel('密码', { exact: true })).toHaveCount(0);
  await page.getByLabel('用户名（手机号）').fill(mobile);
  await page.getByRole('checkbox', { name: /我已阅读并同意/ }).check();
  await page.getByRole('button', { name: '使用安全密钥登录' }).click();
  await expect(page).toHaveURL(/\/my-certificates$/);
  await openAccount(page);
  const history = page.getByRole('region', { name: '登录记录' });
  await expect(history.getByRole('cell', { name: '安全密钥' }).first()).toBeVisible();

  // The key can be removed again.
  const keysAfter = page.getByRole('region', { name: '安全密钥' });
  await keysAfter.getByLabel('当前密码').fill(password);
  await keysAfter.getByRole('button', { name: '删除安全密钥 测试密钥' }).click();
  await expect(keysAfter.getByText('尚未登记安全密钥')).toBeVisible();
  noErrors();
  await context.close();
});

test('signed out, 用户中心 sends the visitor to sign in and back', async ({ page }) => {
  await page.goto('/account');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Faccount$|\/sign-in\?next=\/account$/);
  await expect(page.getByRole('button', { name: '立即登录' })).toBeVisible();
  await expect(page.getByRole('banner').getByRole('link', { name: '注册' })).toBeVisible();
});
