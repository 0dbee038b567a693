import { test, expect } from '@playwright/test';
import type { ChildProcess } from 'node:child_process';
import { AGENT_PORT, Staff, appReady, startTokenAgent, openAccount, register, requestSmsCode, smsCode, staffSignedIn, watchForErrors } from './support';
import { approve, files, wizard } from './journey';

// 远程下载 into a real token: certdesk-agent with SoftHSM2 (a token directory of its own),
// on its default port, trusting this portal's origin. The key is made on the token, the CA
// issues for its request, and the certificate lands next to the key: 下载完成 100%. The
// token was personalised first (its SO PIN replaced by one sealed to the portal), so that
// after ten wrong PINs 证书解锁 can open it with the SMS code of the phone of record.


test.describe('with the token agent and a SoftHSM2 token', () => {
  test.describe.configure({ mode: 'serial' });
  let agent: ChildProcess | undefined;
  // The customer of the first test, whose certificate the next ones use.
  let customer: { mobile: string; acceptance: string; staff: Staff; operator: string } | undefined;

  test.beforeAll(async ({ baseURL }) => {
    agent = await startTokenAgent(baseURL!, 'UKey E2E');
  });

  test.afterAll(async () => {
    agent?.kill();
  });

  test('the certificate is downloaded into the token and the customer signs in with it and its PIN', async ({ browser, page, context, baseURL }) => {
    test.setTimeout(90_000);
    const done = watchForErrors(page);
    const staff = await staffSignedIn(browser);
    const { mobile } = await register(page, staff, '企业账户');
    const { acceptance, operator } = await wizard(page, context, files(), 'qr');
    const code = await approve(page, staff, acceptance);
    customer = { mobile, acceptance, staff, operator };

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
    // (As the portal's page asks: the agent answers nothing without the portal's Origin.)
    const asPortal = { headers: { origin: baseURL! } };
    const tokens = await (await fetch(`http://127.0.0.1:${AGENT_PORT}/v1/tokens`, asPortal)).json();
    const certs = await (await fetch(`http://127.0.0.1:${AGENT_PORT}/v1/tokens/${tokens[0].medium_no}/certificates`, asPortal)).json();
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
    // Signed in, the customer lands in 我的证书: the certificate on the token, with its medium.
    await expect(page).toHaveURL(/\/my-certificates$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('我的证书');
    const mine = page.getByRole('region', { name: /天津市滨海数字认证有限公司/ });
    await expect(mine.getByRole('definition').filter({ hasText: tokens[0].medium_no })).toBeVisible();
    await expect(mine.getByRole('definition').filter({ hasText: acceptance })).toBeVisible();
    await openAccount(page);
    await expect(page.getByText('证书登录').first()).toBeVisible();
    done();
  });

  test('ten wrong PINs lock the token, the phone of record unlocks it with a new PIN, and the certificate verifies', async ({ page }) => {
    test.setTimeout(90_000);
    const { mobile, acceptance, staff, operator } = customer!;
    const done = watchForErrors(page);

    // 证书助手 sees the token; 修改PIN码 with a wrong current PIN, ten times.
    await page.goto('/agent');
    await appReady(page);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('证书助手');
    await expect(page.getByText('证书助手已安装，检测到1个介质。')).toBeVisible();
    const change = page.locator('section', { has: page.getByRole('heading', { name: '修改PIN码' }) });
    const tryChange = async (old: string) => {
      await change.getByLabel('原PIN码').fill(old);
      await change.getByLabel('新PIN码', { exact: true }).fill('246813');
      await change.getByLabel('确认新PIN码').fill('246813');
      await change.getByRole('button', { name: '修改PIN码' }).click();
    };
    for (let left = 9; left >= 1; left--) {
      await tryChange('000000');
      await expect(change.getByRole('alert')).toHaveText(`PIN码错误，还可尝试${left}次`);
    }
    await tryChange('000000');
    await expect(change.getByRole('alert')).toHaveText('PIN码已锁定，请使用“证书解锁”解锁。');
    // Locked: the right PIN no longer opens it either.
    await tryChange('123456');
    await expect(change.getByRole('alert')).toHaveText('PIN码已锁定，请使用“证书解锁”解锁。');

    // 证书解锁: the phone of record (the operator's, given in the wizard), its SMS code, and a
    // PIN the user chooses (not 111111). The account's own phone is not the phone of record.
    await page.goto('/unlock');
    await appReady(page);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('证书解锁');
    await expect(page.getByLabel('介质')).toContainText('（已锁定）');
    const phoneOfRecord = operator;
    expect(mobile).not.toBe(phoneOfRecord);
    await page.getByLabel('手机号码').fill(phoneOfRecord);
    await requestSmsCode(page);
    const code = await smsCode(staff, phoneOfRecord, 'SMS_CD_UNLOCK');
    // (The lost phone's 停用移动软盾 below has a code field too, closed until asked for.)
    await page.getByRole('textbox', { name: '短信验证码' }).fill(code);
    await page.getByLabel('新PIN码', { exact: true }).fill('111111');
    await page.getByLabel('确认新PIN码').fill('111111');
    await page.getByRole('button', { name: '证书解锁' }).click();
    await expect(page.getByText('新PIN码过于简单（如111111、123456），请另设一个')).toBeVisible();
    await page.getByLabel('新PIN码', { exact: true }).fill('246813');
    await page.getByLabel('确认新PIN码').fill('246813');
    await page.getByRole('button', { name: '证书解锁' }).click();
    await expect(page.getByRole('status').filter({ hasText: '解锁成功，新PIN码已生效。' })).toBeVisible();
    await expect(page.getByLabel('介质')).not.toContainText('（已锁定）');

    // 证书校验 with the new PIN: chain, validity, OCSP and possession, each passed.
    await page.goto('/verify');
    await appReady(page);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('证书校验');
    await page.getByRole('button', { name: '读取证书' }).click();
    await expect(page.locator('.certificate-read')).toContainText(acceptance);
    await page.getByLabel('PIN码', { exact: true }).fill('123456');
    await page.getByRole('button', { name: '校验证书' }).click();
    await expect(page.getByRole('alert')).toHaveText('PIN码错误，还可尝试9次');
    await page.getByLabel('PIN码', { exact: true }).fill('246813');
    await page.getByRole('button', { name: '校验证书' }).click();
    await expect(page.getByRole('heading', { name: '证书校验通过' })).toBeVisible({ timeout: 10_000 });
    for (const [check, result] of [
      ['证书链（由本CA签发并登记）', '通过'],
      ['有效期', '通过'],
      ['吊销状态（OCSP）', '正常（未吊销）'],
      ['私钥持有（介质签名）', '通过'],
    ]) {
      await expect(page.getByRole('row', { name: check }).getByRole('cell')).toHaveText(result);
    }

    // 环境检测 finds the agent and lists the token.
    await page.goto('/env-check');
    await appReady(page);
    await expect(page.getByRole('row', { name: /介质/ })).toContainText('UKey E2E');
    done();
  });

  test('a PC soft shield is made on the agent page, takes a certificate, and signs its holder in with PC软盾登录', async ({ browser, page, context }) => {
    test.setTimeout(90_000);
    const done = watchForErrors(page);
    await page.goto('/agent');
    await appReady(page);
    const shield = page.locator('section', { has: page.getByRole('heading', { name: '创建PC软盾' }) });
    await shield.getByLabel('软盾名称').fill('我的软盾');
    await shield.getByLabel('PIN码', { exact: true }).fill('123456');
    await shield.getByLabel('确认新PIN码').fill('123456');
    await shield.getByRole('button', { name: '创建PC软盾' }).click();
    await expect(shield.getByText('新PIN码过于简单（如111111、123456），请另设一个')).toBeVisible();
    await shield.getByLabel('PIN码', { exact: true }).fill('975318');
    await shield.getByLabel('确认新PIN码').fill('975318');
    await shield.getByRole('button', { name: '创建PC软盾' }).click();
    await expect(shield.getByRole('status')).toContainText('PC软盾已创建，介质编号：SD');
    const medium = (await shield.getByRole('status').textContent())!.match(/SD[0-9A-F]{16}/)![0];
    await expect(page.getByText('证书助手已安装，检测到2个介质。')).toBeVisible();

    // PC软盾登录 offers the shield only; without a certificate on it, it says so.
    await page.goto('/sign-in');
    await appReady(page);
    await page.getByRole('radio', { name: 'PC软盾登录' }).check();
    await expect(page.getByLabel('介质')).toContainText('我的软盾');
    await expect(page.getByLabel('介质')).not.toContainText('UKey E2E');
    await page.getByLabel('PIN码').fill('975318');
    await page.getByRole('button', { name: '立即登录' }).click();
    await expect(page.getByRole('alert')).toHaveText('该介质中没有证书，请先下载证书。');

    // A new customer's certificate is downloaded into the shield…
    const staff = await staffSignedIn(browser);
    await register(page, staff, '企业账户');
    const { acceptance } = await wizard(page, context, files(), 'qr', { medium: 'PC软盾' });
    const code = await approve(page, staff, acceptance);
    await page.goto('/remote-download');
    await appReady(page);
    // Applied for on a PC soft shield: the UKey is refused before a key is made on it.
    const ukey = await page.getByLabel('介质').locator('option', { hasText: 'UKey E2E' }).getAttribute('value');
    await page.getByLabel('介质').selectOption(ukey!);
    await page.getByLabel('业务受理号').fill(acceptance);
    await page.getByLabel('下载授权码').fill(code);
    await page.getByLabel('PIN码').fill('123456');
    await page.getByRole('button', { name: '下载证书' }).click();
    await expect(page.getByRole('alert').filter({ hasText: '此证书申请时选择的介质类型与所插入的介质不同' })).toBeVisible();
    await expect(page.locator('.download-progress')).toHaveCount(0);
    await page.getByLabel('介质').selectOption(medium);
    await page.getByLabel('业务受理号').fill(acceptance);
    await page.getByLabel('下载授权码').fill(code);
    await page.getByLabel('PIN码').fill('975318');
    await page.getByRole('button', { name: '下载证书' }).click();
    await expect(page.locator('.download-progress')).toContainText('下载完成，请重新登录系统。 100%', { timeout: 20_000 });

    // …and signs them in with PC软盾登录.
    await page.getByRole('button', { name: '退出' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('数字证书自助服务');
    await page.goto('/sign-in');
    await appReady(page);
    await page.getByRole('radio', { name: 'PC软盾登录' }).check();
    await page.getByLabel('PIN码').fill('975318');
    await page.getByRole('button', { name: '立即登录' }).click();
    await expect(page).toHaveURL(/\/my-certificates$/);
    await openAccount(page);
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
    // What a `<script src>` on another site sends (no Origin), and an address typed into the
    // address bar (Sec-Fetch-Site: none): 403 and not a byte about the token.
    for (const headers of [
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' },
      { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate', origin: baseURL! },
    ] as Record<string, string>[]) {
      const res = await fetch(`http://127.0.0.1:${AGENT_PORT}/v1/tokens`, { headers });
      expect(res.status).toBe(403);
      expect(await res.text()).toBe('');
    }
  });
});
