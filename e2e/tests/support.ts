import { Page, expect } from '@playwright/test';
import type { APIRequestContext, Browser, BrowserContext } from '@playwright/test';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certdeskBin, serverEnv } from '../playwright.config';

/** The port the portal's pages look for the token agent on. */
export const AGENT_PORT = 17530;
const agentBin = process.env.CERTDESK_AGENT_BIN ?? join(__dirname, '..', '..', 'target', 'debug', 'certdesk-agent');

/** certdesk-agent on its default port with a SoftHSM2 token of its own labelled `label`
 * (user PIN 123456), trusting the portal at `baseURL`. The token is personalised first, as at
 * the CA's counter: its SO PIN becomes a random one sealed to the portal, so that 证书解锁
 * can open it later. */
export async function startTokenAgent(baseURL: string, label: string): Promise<ChildProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-token-'));
  mkdirSync(join(dir, 'tokens'));
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\n`);
  const env = { ...process.env, SOFTHSM2_CONF: conf, RUST_LOG: 'warn' };
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', '87654321', '--pin', '123456'], { env });
  const { public_key } = await (await fetch(`${baseURL}/api/tokens/unlock-key`)).json();
  execFileSync(agentBin, ['--pkcs11-module', '/usr/lib/softhsm/libsofthsm2.so', 'personalize', '--so-pin', '87654321', '--portal-key', public_key], { env });
  const agent = spawn(
    agentBin,
    ['--port', `${AGENT_PORT}`, '--allow-origin', baseURL, '--pkcs11-module', '/usr/lib/softhsm/libsofthsm2.so', '--data-dir', join(dir, 'agent')],
    { env, stdio: 'inherit' },
  );
  await expect
    .poll(async () => fetch(`http://127.0.0.1:${AGENT_PORT}/v1/info`, { headers: { origin: baseURL } }).then((r) => r.ok).catch(() => false), { timeout: 15_000 })
    .toBe(true);
  return agent;
}

/** Screenshots kept as test output, one per page and language. */
export async function keepScreenshot(page: Page, name: string) {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true });
}

/** Fails the test on script errors and on anything the Content-Security-Policy blocked. */
export function watchForErrors(page: Page): () => void {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|panicked|RuntimeError/.test(m.text())) {
      problems.push(`console: ${m.text()}`);
    }
  });
  return () => expect(problems, problems.join('\n')).toEqual([]);
}

/** Waits until the app has rendered (the wasm module started). */
export async function appReady(page: Page) {
  // The home page's first paint (plain HTML in index.html) has a header too: the app is
  // ready once it has replaced it.
  await expect(page.locator('#first-paint')).toHaveCount(0);
  await expect(page.locator('header.site-header')).toBeVisible();
}

/** The staff console's side navigation. */
export function sideNav(page: Page) {
  return page.getByRole('navigation', { name: '管理后台' });
}

/** Opens a section of the staff console from its side navigation (a link named by the
 * section, with its count of what waits after it). */
export async function openSection(page: Page, name: string) {
  await sideNav(page).getByRole('link', { name: new RegExp(`^${name}( \\d+)?$`) }).click();
  await expect(page.getByRole('region', { name, exact: true })).toBeVisible();
}

// ---------------------------------------------------------------------------------------
// Accounts and staff: helpers for the journeys against the real server.

/** A fresh mainland mobile number (1[3-9] + 9 digits), unique per run and call. */
export function uniqueMobile(): string {
  // 13x–19x, never 170/171: the sandbox SMS gateway treats that block as unreachable.
  const second = [3, 5, 8, 9][Math.floor(Math.random() * 4)];
  const rest = `${Date.now() % 1e6}`.padStart(6, '0') + `${Math.floor(Math.random() * 1000)}`.padStart(3, '0');
  return `1${second}${second}${rest.slice(1)}`;
}

/** Chromium's virtual authenticator (CDP) for this page: a platform-less USB key with a PIN. */
export async function addVirtualAuthenticator(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'usb',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return cdp;
}

/** `certdesk admin create`, with the server's environment; answers the enrolment link. */
export function createStaffWithCli(username: string, displayName: string, role = 'administrator'): string {
  if (!serverEnv.CERTDESK_DATA_DIR && !serverEnv.DATABASE_URL) {
    throw new Error('CERTDESK_DATA_DIR (or DATABASE_URL) must name the test server\'s data, see playwright.config.ts');
  }
  const out = execFileSync(
    certdeskBin,
    ['admin', 'create', '--role', role, '--username', username, '--display-name', displayName],
    { env: { ...process.env, ...serverEnv }, encoding: 'utf8' },
  );
  const line = out.split('\n').find((l) => l.startsWith('enrol: '));
  if (!line) throw new Error(`no enrolment link in:\n${out}`);
  return line.slice('enrol: '.length).trim();
}

/** A staff member signed in to /admin in their own browser context, with a security key. */
export interface Staff {
  context: BrowserContext;
  page: Page;
  username: string;
  displayName: string;
}

/** Creates a staff member (an administrator unless `role` says) with the CLI, enrols a
 * virtual security key through the link, signs out and signs in again at /admin/sign-in with
 * the key; the console opens on 工作台 (`/admin`), every role's first page. */
export async function staffSignedIn(browser: Browser, role = 'administrator'): Promise<Staff> {
  const username = `${role.slice(0, 5)}${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const displayName = '测试员工';
  const enrolUrl = createStaffWithCli(username, displayName, role);
  const context = await browser.newContext();
  const page = await context.newPage();
  await addVirtualAuthenticator(context, page);
  await page.goto(enrolUrl);
  await appReady(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('登记安全密钥');
  await page.getByRole('button', { name: '登记安全密钥' }).click();
  const first = /\/admin$/;
  await expect(page).toHaveURL(first);
  await expect(page.locator('.staff-bar')).toContainText(displayName);
  await page.getByRole('button', { name: '退出' }).click();
  await expect(page).toHaveURL(/\/admin\/sign-in$/);
  await page.getByLabel('用户名', { exact: true }).fill(username);
  await page.getByRole('button', { name: '使用安全密钥登录' }).click();
  await expect(page).toHaveURL(first);
  await expect(page.locator('.staff-bar')).toContainText(displayName);
  return { context, page, username, displayName };
}

/** The newest code of `template` sent to `mobile`, read from the SMS outbox through the
 * admin API with the staff member's cookie. `after` skips codes already seen. */
export async function smsCode(staff: Staff, mobile: string, template: string, after?: string): Promise<string> {
  let code = '';
  await expect
    .poll(
      async () => {
        const res = await staff.page.request.get(`/api/admin/sms-outbox?recipient=${mobile}`);
        expect(res.status()).toBe(200);
        const messages: { template: string; body: string }[] = (await res.json()).items;
        const newest = messages.find((m) => m.template === template);
        code = newest?.body.match(/验证码：(\d{6})/)?.[1] ?? '';
        return code !== '' && code !== after;
      },
      { message: `an SMS ${template} to ${mobile}` },
    )
    .toBe(true);
  return code;
}

/** Opens /sign-in and reads the captcha's answer from the test-only `X-Captcha-Answer`
 * header of `GET /api/captcha`. */
export async function openSignIn(page: Page, path = '/sign-in'): Promise<string> {
  await page.goto(path);
  await appReady(page);
  // The page's own captcha may still be on its way, and after a client-side navigation so may
  // the previous page's: once all is quiet, 换一张 asks for the one whose answer this returns.
  await page.waitForLoadState('networkidle');
  const captcha = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/captcha');
  await page.getByRole('button', { name: '换一张' }).click();
  const answer = (await captcha).headers()['x-captcha-answer'];
  if (!answer) throw new Error('the test server must run with CERTDESK_INSECURE_CAPTCHA_ECHO=true');
  return answer;
}

/** 获取验证码: answers the image captcha (图形验证码) beside it with a fresh picture's answer,
 * read from the test-only `X-Captcha-Answer` header, and asks for the SMS code. */
export async function requestSmsCode(page: Page) {
  const captcha = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/captcha');
  await page.getByRole('button', { name: '换一张' }).click();
  const answer = (await captcha).headers()['x-captcha-answer'];
  if (!answer) throw new Error('the test server must run with CERTDESK_INSECURE_CAPTCHA_ECHO=true');
  await page.getByLabel('图形验证码', { exact: true }).fill(answer);
  await page.getByRole('button', { name: '获取验证码' }).click();
}

/** Signs in with user name, password, captcha and the agreement; lands in 我的证书. */
export async function signInWithPassword(page: Page, mobile: string, password: string) {
  const answer = await openSignIn(page);
  await page.getByLabel('用户名（手机号）').fill(mobile);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.getByLabel('验证码', { exact: true }).fill(answer);
  await page.getByRole('checkbox', { name: /我已阅读并同意/ }).check();
  await page.getByRole('button', { name: '立即登录' }).click();
  await expect(page).toHaveURL(/\/my-certificates$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('我的证书');
}

/** 用户中心 from the header. */
export async function openAccount(page: Page) {
  await page.getByRole('banner').getByRole('link', { name: '用户中心' }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('用户中心');
}

/** 退出 in the header: back home, signed out. */
export async function signOut(page: Page) {
  await page.getByRole('banner').getByRole('button', { name: '退出' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('banner').getByRole('link', { name: '登录' })).toBeVisible();
}

export interface Registered {
  mobile: string;
  password: string;
}

/** A phone as pages show it: `186****3055`. */
export function masked(phone: string): string {
  return `${phone.slice(0, 3)}****${phone.slice(7)}`;
}

/** A documentation address (RFC 5737, 198.51.100.0/24 and 203.0.113.0/24) no other page uses. */
let addresses = 0;
export function uniqueAddress(): string {
  addresses += 1;
  const n = (process.pid * 7 + addresses) % 508;
  return n < 254 ? `198.51.100.${n + 1}` : `203.0.113.${n - 253}`;
}

/** Registers an account of `kind` (企业账户, 个人账户 or 主管部门账户) with a code read from
 * the SMS outbox; lands in 用户中心, signed in. */
export async function register(page: Page, staff: Staff, kind: '企业账户' | '个人账户' | '主管部门账户'): Promise<Registered> {
  const mobile = uniqueMobile();
  const password = `注册时的密码 ${mobile}`;
  // Each customer's browser is a client of its own (the test server trusts X-Forwarded-For,
  // as behind a reverse proxy): the per-address SMS limits apply to each, not to all journeys.
  // Only the portal's API calls carry it: a header on the calls to the token agent would make
  // them preflighted, which the agent (rightly) refuses.
  const address = uniqueAddress();
  const portal = new URL(process.env.BASE_URL ?? 'http://localhost:8080').origin;
  await page.route(
    (url) => url.origin === portal && url.pathname.startsWith('/api/'),
    (route) => route.continue({ headers: { ...route.request().headers(), 'x-forwarded-for': address } }),
  );
  await page.goto('/register');
  await appReady(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('注册');
  await page.getByRole('radio', { name: kind }).check();
  if (kind === '企业账户') {
    await page.getByLabel('单位名称').fill('天津滨海测试有限公司');
    await page.getByLabel('统一社会信用代码').fill('91350100M000100Y43');
    await page.getByLabel('经办人姓名').fill('张三');
  } else if (kind === '主管部门账户') {
    await page.getByLabel('主管部门名称').fill('天津市测试主管局');
    await page.getByLabel('经办人姓名').fill('张三');
  } else {
    await page.getByLabel('姓名', { exact: true }).fill('张三');
  }
  await page.getByLabel('身份证号码').fill('11010519491231002X');
  await page.getByLabel('手机号码').fill(mobile);
  await expect(page.getByLabel('手机号码')).toHaveAccessibleDescription(/手机号即用户名，每个手机号只能注册一个账号/);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.getByLabel('确认密码').fill(password);
  await requestSmsCode(page);
  await expect(page.getByRole('button', { name: /^\d+秒后可再次发送$/ })).toBeDisabled();
  const code = await smsCode(staff, mobile, 'SMS_CD_REGISTER');
  await page.getByLabel('短信验证码').fill(code);
  await page.getByRole('checkbox', { name: /我已阅读并同意/ }).check();
  await page.getByRole('button', { name: '注册', exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('用户中心');
  return { mobile, password };
}

/**
 * The text, by OpenSSL, of every CRL of the issuing CA one after the other: those the JSON
 * array of partitioned CRLs names (the full-name CRL of the certificates from before the
 * shards, then each shard's). A certificate's entry is in the CRL its distribution point names.
 */
export async function issuingCrlsText(request: APIRequestContext, dir: string): Promise<string> {
  const list = await request.get('/ca/issuing-crls.json');
  expect(list.status()).toBe(200);
  const urls: string[] = await list.json();
  expect(urls.length).toBeGreaterThan(1);
  let text = '';
  for (const [i, url] of urls.entries()) {
    const res = await request.get(new URL(url).pathname);
    expect(res.status()).toBe(200);
    const file = join(dir, `issuing-${i}.crl`);
    writeFileSync(file, await res.body());
    text += execFileSync('openssl', ['crl', '-inform', 'DER', '-in', file, '-noout', '-text'], { encoding: 'utf8' });
  }
  return text;
}
