import { test, expect, chromium } from '@playwright/test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumArgs, chromiumPath } from '../playwright.config';
import { appReady, register, signOut, staffSignedIn, watchForErrors } from './support';
import { approve, files, wizard } from './journey';
import { fakeCameraArgs, pngToGrey, writeY4m } from './camera';

// 移动软盾 and APP扫码登录 (seed 004 §5.3, §5.9: "使用手机端APP扫描二维码后录入PIN码即可登录"): a
// customer applies for a certificate on the mobile shield, downloads it into the phone app
// (远程下载: the key pair is made on the phone), then signs in on the desktop by scanning
// the desktop's QR code with the phone's camera; 300 days on, renews it and downloads the
// renewal in the app, and signs in again with the typed code. Two Chromiums: the desktop, and a phone-sized
// one whose camera is a Y4M file of the desktop's screenshot.

const PIN = '802417';

// A certificate is renewable in its last 90 days: the journey moves the clock the server
// sees (libfaketime, CERTDESK_CLOCK_FILE) 300 days on before renewing, as renew.spec.ts does.
const clockFile = process.env.CERTDESK_CLOCK_FILE ?? '';

test('a customer downloads a mobile-shield certificate into the phone app and signs in on the desktop by scanning', async ({ browser, page, context, baseURL }) => {
  test.setTimeout(240_000);
  if (!clockFile) throw new Error('CERTDESK_CLOCK_FILE must name the test server\'s libfaketime file (cargo xtask test sets it)');
  const done = watchForErrors(page);
  const staff = await staffSignedIn(browser);
  await register(page, staff, '个人账户');
  const { acceptance } = await wizard(page, context, files(), 'qr', { type: '个人证书', medium: '移动软盾' });
  // The reviewer sees the medium the download will need.
  await staff.page.goto(`/admin/review?q=${acceptance}`);
  await appReady(staff.page);
  const review = staff.page.getByRole('region', { name: '审核', exact: true });
  await review.getByRole('button', { name: `查看 ${acceptance}` }).click();
  await expect(review.getByRole('row', { name: '介质类型 移动软盾' })).toBeVisible();
  const authCode = await approve(page, staff, acceptance);

  await signOut(page);

  // The desktop: APP扫码登录 shows a code bound to this browser, waiting for a scan.
  await page.goto('/sign-in');
  await appReady(page);
  await page.getByRole('radio', { name: 'APP扫码登录' }).check();
  const box = page.locator('.qr-login-box');
  const code = box.locator('.qr-login svg');
  await expect(code).toBeVisible();
  await expect(box.getByRole('status')).toHaveText('等待扫码');
  const match = (await box.locator('.match-number').textContent())!.match(/(\d{2})$/)![1];

  // The phone's camera sees the desktop's QR code.
  const dir = mkdtempSync(join(tmpdir(), 'certdesk-camera-'));
  const camera = join(dir, 'camera.y4m');
  writeY4m(camera, pngToGrey(await code.screenshot()));
  const phoneBrowser = await chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs, ...fakeCameraArgs(camera)] });
  try {
    const phoneContext = await phoneBrowser.newContext({
      baseURL,
      locale: 'zh-CN',
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const phone = await phoneContext.newPage();
    const phoneDone = watchForErrors(phone);

    // 远程下载 in the app: the certificate to be issued is shown, then the key pair is made on
    // the phone and the PIN set twice.
    await phone.goto('/m/download');
    await expect(phone.getByRole('heading', { name: '远程下载', level: 1 })).toBeVisible();
    await phone.getByLabel('业务受理号').fill(acceptance);
    await phone.getByLabel('下载授权码').fill(authCode);
    await phone.getByRole('button', { name: '查询证书' }).click();
    await expect(phone.getByRole('heading', { name: '将签发的证书' })).toBeVisible();
    await phone.getByLabel('设置PIN码').fill(PIN);
    await phone.getByLabel('再次输入PIN码').fill('802418');
    await phone.getByRole('button', { name: '下载到本机' }).click();
    await expect(phone.locator('.field-error')).not.toHaveCount(0);
    await phone.getByLabel('再次输入PIN码').fill(PIN);
    await phone.getByRole('button', { name: '下载到本机' }).click();
    await expect(phone.getByText('下载完成，证书已保存在本机。')).toBeVisible({ timeout: 20_000 });

    // 我的证书 in the app: the certificate with its 证书信息 panel and the server's word on it.
    await phone.getByRole('link', { name: '我的证书' }).first().click();
    const card = phone.locator('section.cert');
    await expect(card.getByText('移动软盾', { exact: true })).toBeVisible();
    await expect(card.locator('code').filter({ hasText: /^MS[0-9A-Z]{10}$/ })).toBeVisible();
    await expect(card.getByText('正常', { exact: true })).toBeVisible();

    // 扫码登录: the camera reads the desktop's code; the phone shows what it approves.
    await phone.goto('/m/scan');
    await expect(phone.getByRole('heading', { name: '扫码登录', level: 1 })).toBeVisible();
    const started = Date.now();
    await phone.getByRole('button', { name: '打开摄像头扫码' }).click();
    await expect(phone.getByText('请选择电脑上显示的数字')).toBeVisible({ timeout: 20_000 });
    const scanned = Date.now();
    await expect(box.getByRole('status')).toHaveText('已扫码，请在手机上确认');
    await expect(phone.getByText('登录 CertDesk 门户')).toBeVisible();

    // A wrong PIN is counted by the server and changes nothing on the desktop.
    await phone.getByTestId(`match-${match}`).click();
    await phone.getByLabel('PIN码').fill('135792');
    await phone.getByRole('button', { name: '确认登录' }).click();
    await expect(phone.getByText('PIN码错误，还可尝试9次')).toBeVisible();
    await expect(box.getByRole('status')).toHaveText('已扫码，请在手机上确认');

    await phone.getByLabel('PIN码').fill(PIN);
    const approved = Date.now();
    await phone.getByRole('button', { name: '确认登录' }).click();
    await expect(phone.getByText('已确认登录')).toBeVisible();

    // The desktop — the browser that showed the code — is signed in.
    await expect(page).toHaveURL(/\/my-certificates$/, { timeout: 15_000 });
    const signedIn = Date.now();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('我的证书');
    console.log(
      `figure: camera open to code read ${scanned - started} ms; approve to desktop signed in ${signedIn - approved} ms`,
    );

    // 证书延期, 300 days on (the server's clock under libfaketime): applied for and paid on the
    // desktop, downloaded in the app with a key made on the phone (seed 004 §4.2.5). The
    // desktop's session has long expired by then: it signs in again with the app, by the
    // typed code this time.
    const held: { uid: string }[] = await (await page.request.get('/api/my-certificates')).json();
    const uid = held[0].uid;
    writeFileSync(clockFile, '+300d\n');
    const signInByCode = async () => {
      await page.goto('/sign-in');
      await appReady(page);
      await page.getByRole('radio', { name: 'APP扫码登录' }).check();
      await expect(box.getByRole('status')).toHaveText('等待扫码');
      const short = (await box.locator('.short-code').textContent())!.trim();
      const number = (await box.locator('.match-number').textContent())!.match(/(\d{2})$/)![1];
      await phone.goto('/m/scan');
      await phone.getByLabel('输入登录码').fill(short.toLowerCase());
      await phone.getByRole('button', { name: '下一步' }).click();
      await phone.getByTestId(`match-${number}`).click();
      await phone.getByLabel('PIN码').fill(PIN);
      await phone.getByRole('button', { name: '确认登录' }).click();
      await expect(phone.getByText('已确认登录')).toBeVisible();
      await expect(page).toHaveURL(/\/my-certificates$/, { timeout: 15_000 });
      await appReady(page);
    };
    await signInByCode();

    await page.goto(`/renew?uid=${uid}`);
    await appReady(page);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('证书延期');
    await page.getByRole('button', { name: '提交延期申请' }).click();
    await page.getByRole('radio', { name: '微信支付' }).check();
    const payUrl = await page.getByRole('link', { name: '在手机上打开支付页面' }).getAttribute('href');
    const payer = await context.newPage();
    await payer.goto(payUrl!);
    await payer.getByRole('button', { name: '确认支付' }).click();
    // ③ 证书下载 is done in the app, not through the token agent.
    await expect(page.getByText('请在手机上打开移动软盾APP')).toBeVisible({ timeout: 20_000 });

    await phone.goto('/m');
    const waiting = phone.locator('section.cert');
    await expect(waiting.getByText('有一份已审核通过的证书延期待下载。')).toBeVisible();
    await waiting.getByRole('link', { name: '证书更新(延期)' }).click();
    await expect(phone.getByRole('heading', { name: '证书更新(延期)', level: 1 })).toBeVisible();
    await phone.getByLabel('PIN码').fill(PIN);
    await phone.getByRole('button', { name: '下载延期证书' }).click();
    await expect(phone.getByText('延期完成，新证书已保存在本机，旧证书已作废。')).toBeVisible({ timeout: 20_000 });
    const old = await (await page.request.get(`/api/public/certificates/${uid}`)).json();
    expect(old.status).toBe('revoked');

    // The renewed certificate signs the desktop in.
    await signOut(page);
    await signInByCode();
    const mine: { uid: string; status: string }[] = await (await page.request.get('/api/my-certificates')).json();
    expect(mine.find((c) => c.uid !== uid)?.status).toBe('valid');

    // Offline, the installed app still opens its pages, those never shown before too: the
    // service worker keeps the shell and every page's wasm chunk. Its home is /m/, in the
    // worker's scope (the manifest's start_url).
    await phone.goto('/m/');
    await phone.evaluate(async () => {
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) {
        await new Promise((done) => navigator.serviceWorker.addEventListener('controllerchange', done, { once: true }));
      }
    });
    await phoneContext.setOffline(true);
    await phone.goto('/m/unlock');
    await expect(phone.getByRole('heading', { name: '证书解锁', level: 1 })).toBeVisible();
    await expect(phone.getByRole('status').filter({ hasText: '离线：无法连接服务器' })).toBeVisible();
    await phone.getByRole('link', { name: '我的证书' }).last().click();
    await expect(phone).toHaveURL(/\/m\/$/);
    await expect(phone.locator('section.cert')).toBeVisible();
    await phoneContext.setOffline(false);
    phoneDone();
  } finally {
    await phoneBrowser.close();
    // Back to the real time for whatever runs next.
    writeFileSync(clockFile, '+0d\n');
  }
  done();
});
