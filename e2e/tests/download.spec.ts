import { test, expect } from '@playwright/test';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appReady, register, staffSignedIn, watchForErrors } from './support';
import { approve, files, wizard } from './journey';

// 远程下载 into a real token: certdesk-agent with SoftHSM2 (a token directory of its own),
// on its default port, trusting this portal's origin. The key is made on the token, the CA
// issues for its request, and the certificate lands next to the key: 下载完成 100%.

const AGENT_PORT = 17530;
const agentBin = process.env.CERTDESK_AGENT_BIN ?? join(__dirname, '..', '..', 'target', 'debug', 'certdesk-agent');

test.describe('with the token agent and a SoftHSM2 token', () => {
  let agent: ChildProcess | undefined;
  let dir = '';

  test.beforeAll(async ({ baseURL }) => {
    dir = mkdtempSync(join(tmpdir(), 'certdesk-token-'));
    mkdirSync(join(dir, 'tokens'));
    const conf = join(dir, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\n`);
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'UKey E2E', '--so-pin', '87654321', '--pin', '123456'], {
      env: { ...process.env, SOFTHSM2_CONF: conf },
    });
    agent = spawn(
      agentBin,
      ['--port', `${AGENT_PORT}`, '--allow-origin', baseURL!, '--pkcs11-module', '/usr/lib/softhsm/libsofthsm2.so', '--data-dir', join(dir, 'agent')],
      { env: { ...process.env, SOFTHSM2_CONF: conf, RUST_LOG: 'warn' }, stdio: 'inherit' },
    );
    await expect
      .poll(async () => fetch(`http://127.0.0.1:${AGENT_PORT}/v1/info`).then((r) => r.ok).catch(() => false), { timeout: 15_000 })
      .toBe(true);
  });

  test.afterAll(async () => {
    agent?.kill();
  });

  test('the certificate is downloaded into the token and the customer signs in with it and its PIN', async ({ browser, page, context }) => {
    test.setTimeout(90_000);
    const done = watchForErrors(page);
    const staff = await staffSignedIn(browser);
    await register(page, staff, '企业账户');
    const { acceptance } = await wizard(page, context, files(), 'qr');
    const code = await approve(page, staff, acceptance);

    await page.goto('/remote-download');
    await appReady(page);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('远程下载');
    await expect(page.getByLabel('介质')).toContainText('UKey E2E');
    await page.getByLabel('业务受理号').fill(acceptance);
    await page.getByLabel('下载授权码').fill(code);
    await page.getByLabel('PIN码').fill('000000');
    await page.getByRole('button', { name: '下载证书' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'PIN码错误，还可尝试9次' })).toBeVisible();
    await page.getByLabel('PIN码').fill('123456');
    await page.getByRole('button', { name: '下载证书' }).click();
    await expect(page.locator('.download-progress')).toContainText('下载完成，请重新登录系统。 100%', { timeout: 20_000 });

    // The token now holds the certificate next to its key, with the CA chain.
    const tokens = await (await fetch(`http://127.0.0.1:${AGENT_PORT}/v1/tokens`)).json();
    const certs = await (await fetch(`http://127.0.0.1:${AGENT_PORT}/v1/tokens/${tokens[0].medium_no}/certificates`)).json();
    const leaf = certs.find((c: { has_key: boolean }) => c.has_key);
    expect(leaf.label).toBe(acceptance);
    expect(certs.length).toBe(3);
    // And 我的证书申请 says it is issued.
    await page.goto('/applications');
    await expect(page.getByRole('row', { name: new RegExp(acceptance) }).getByRole('cell', { name: '已签发' })).toBeVisible();

    // 下载完成，请重新登录系统: signed out, the customer signs in with the UKey and its PIN.
    await page.getByRole('button', { name: '退出' }).click();
    // Signing out goes home (another bundle: a full load); wait for it before moving on.
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('数字证书自助服务');
    await page.goto('/sign-in');
    await appReady(page);
    await page.getByRole('radio', { name: 'UKey登录' }).check();
    await expect(page.getByLabel('介质')).toContainText('UKey E2E');
    await page.getByLabel('PIN码').fill('111111');
    await page.getByRole('button', { name: '立即登录' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'PIN码错误，还可尝试9次' })).toBeVisible();
    await page.getByLabel('PIN码').fill('123456');
    await page.getByRole('button', { name: '立即登录' }).click();
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('用户中心');
    await expect(page.getByText('证书登录').first()).toBeVisible();
    done();
  });

  test('a page from another origin gets nothing from the agent', async ({ page, baseURL }) => {
    // The same server by its IP address: another origin, not in the agent's list.
    await page.goto(baseURL!.replace('localhost', '127.0.0.1') + '/');
    const answer = await page.evaluate(async (port) => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v1/tokens`);
        return `status ${res.status}`;
      } catch {
        return 'blocked';
      }
    }, AGENT_PORT);
    expect(answer).toBe('blocked');
    // The portal's own origin is answered.
    await page.goto(baseURL + '/');
    const ours = await page.evaluate(async (port) => (await fetch(`http://127.0.0.1:${port}/v1/tokens`)).status, AGENT_PORT);
    expect(ours).toBe(200);
  });
});
