// A new user on `vaccount serve --demo`, as the README tells it: open /admin/, follow the
// enrolment link the demo printed, choose a password, scan the QR code (here: read the key shown
// under it), confirm with the authenticator's code, log in, and see today's figures.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PASSWORD, freshTotp, launchBrowser, newPage, parseOtpauth, screenshot, startServer } from './lib/harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ name: 'walk' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a new operator enrols from the demo link, logs in and sees today\'s figures', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/admin/`);
  assert.equal(new URL(page.url()).pathname, '/admin/login', 'no session: the login page');
  assert.equal(await page.locator('h1').innerText(), '로그인');
  await screenshot(page, 'walk-login');

  const link = server.stdout.match(/^\s*(http:\/\/\S+\/admin\/enrol\?token=\S+)$/m)?.[1];
  assert.ok(link, `the demo prints an enrolment link:\n${server.stdout}`);
  assert.equal(new URL(link).searchParams.get('token'), server.demo().admin.enrolment_token, 'the link is kept in demo.json');
  await page.goto(link);
  await screenshot(page, 'walk-enrol-password');
  await page.fill('input[name=password]', PASSWORD);
  await page.fill('input[name=password_again]', PASSWORD);
  await page.click('button[type=submit]');

  assert.equal(await page.locator('[data-testid=qr] svg').count(), 1, 'a QR code');
  const shown = (await page.locator('[data-testid=totp-secret]').innerText()).replace(/\s/g, '');
  const uri = await page.locator('input[name=otpauth_uri]').inputValue();
  assert.equal(parseOtpauth(uri).secret, shown, 'the key under the QR code is the one it encodes');
  await screenshot(page, 'walk-enrol-qr');
  const used = new Set();
  await page.fill('input[name=code]', await freshTotp(shown, used));
  await page.click('button[type=submit]');
  assert.equal(await page.locator('h1').innerText(), '등록을 마쳤습니다');
  await screenshot(page, 'walk-enrol-done');

  await page.click('[data-testid=to-login]');
  assert.equal(await page.locator('input[name=name]').inputValue(), 'admin', 'the login knows who enrolled');
  await page.fill('input[name=password]', PASSWORD);
  await page.fill('input[name=code]', await freshTotp(shown, used));
  await Promise.all([page.waitForURL(`${server.url}/admin/`), page.click('button[type=submit]')]);

  assert.equal(await page.locator('h1').innerText(), '오늘의 현황');
  assert.equal(await page.locator('[data-testid=operator]').innerText(), 'admin');
  for (const figure of ['오늘 발급 계좌', '오늘 입금 건수', '오늘 입금액', '미처리 예외', '웹훅 실패율', '번호 부족 은행', '미처리 장애']) {
    assert.equal(await page.locator(`[data-figure="${figure}"]`).count(), 1, figure);
  }
  assert.equal(await page.locator('svg.chart').count(), 2, 'the 24-hour and 30-day charts');
  await screenshot(page, 'walk-home');
});
