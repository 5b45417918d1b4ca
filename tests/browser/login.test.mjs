// Logging in with a password and a TOTP code, logging out, the lock after five failures in a
// row (and a super_admin lifting it), and a super_admin creating an operator with a fresh code:
// the page shows the enrolment link, which works.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PASSWORD, acceptDialogs, createOperator, enrol, freshTotp, launchBrowser, logIn, newPage, screenshot, startServer } from './lib/harness.mjs';

let server;
let browser;
const tokens = {};
const ops = {};

before(async () => {
  server = await startServer({
    name: 'login',
    setup: (dataDir) => {
      tokens.boss = createOperator(dataDir, 'boss', 'super_admin');
      tokens.kim = createOperator(dataDir, 'kim', 'admin');
    },
  });
  for (const name of Object.keys(tokens)) ops[name] = await enrol(server, name, tokens[name]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('an operator logs in with password and code, and logging out ends the session', async () => {
  const page = await newPage(browser);
  await logIn(page, server, ops.kim, { next: '/admin/incidents' });
  assert.equal(await page.locator('h1').innerText(), '장애');
  assert.equal(await page.locator('[data-testid=operator]').innerText(), 'kim');
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'vaccount_admin');
  assert.ok(session && session.httpOnly && session.secure && session.sameSite === 'Strict' && session.path === '/admin', JSON.stringify(cookies));

  await Promise.all([page.waitForURL(/\/admin\/login$/), page.click('header form button')]);
  await page.goto(`${server.url}/admin/incidents`);
  assert.equal(new URL(page.url()).pathname, '/admin/login', 'the session is over');
});

test('five wrong codes in a row lock the operator for 15 minutes, until a super_admin unlocks', async () => {
  const page = await newPage(browser);
  for (let i = 1; i <= 5; i += 1) {
    await page.goto(`${server.url}/admin/login`);
    await page.fill('input[name=name]', 'kim');
    await page.fill('input[name=password]', PASSWORD);
    await page.fill('input[name=code]', '000000');
    await page.click('button[type=submit]');
    const message = await page.locator('.flash.error').innerText();
    if (i < 5) assert.equal(message, '이름, 비밀번호 또는 인증 코드가 올바르지 않습니다.', `attempt ${i}`);
    else assert.match(message, /5번 연속 실패하여 계정이 15분 동안 잠겼습니다\. \d{4}-\d\d-\d\d \d\d:\d\d 이후에 다시 시도하세요\./);
  }
  await screenshot(page, 'login-locked');
  // Locked: the right code is refused too.
  await page.fill('input[name=password]', PASSWORD);
  await page.fill('input[name=code]', await freshTotp(ops.kim.secret, ops.kim.used));
  await page.click('button[type=submit]');
  assert.match(await page.locator('.flash.error').innerText(), /잠겼습니다/);

  const boss = await newPage(browser);
  acceptDialogs(boss);
  await logIn(boss, server, ops.boss, { next: '/admin/operators' });
  const row = boss.locator('tr.row[data-row="kim"]');
  assert.match(await row.innerText(), /5/, 'five failures shown');
  await screenshot(boss, 'operators');
  await boss.locator('[data-testid=unlock]').click();
  await boss.locator('#notice', { hasText: 'kim의 잠금을 풀었습니다.' }).waitFor();

  await logIn(page, server, ops.kim);
  assert.equal(await page.locator('h1').innerText(), '오늘의 현황');
});

test('a super_admin creates an operator with a fresh code and the enrolment link works', async () => {
  const boss = await newPage(browser);
  await logIn(boss, server, ops.boss, { next: '/admin/operators' });
  const form = boss.locator('form[data-api="/admin/v1/operators"]');
  await form.locator('input[name=name]').fill('park');
  await form.locator('select[name=role]').selectOption('viewer');
  await form.locator('input[name=step_up]').fill('000000');
  await form.locator('button').click();
  assert.match(await form.locator('.flash.error').innerText({ timeout: 5000 }), /인증 코드\(OTP\)/, 'a wrong step-up code is refused');
  await form.locator('input[name=step_up]').fill(await freshTotp(ops.boss.secret, ops.boss.used));
  await form.locator('button').click();
  const link = form.locator('[data-testid=enrolment-link]');
  await link.filter({ hasText: '/admin/enrol?token=' }).waitFor();
  await boss.locator('tr.row[data-row="park"]').waitFor();
  await screenshot(boss, 'operators-created');

  const park = await newPage(browser);
  await park.goto(await link.innerText());
  assert.equal(await park.locator('h1').innerText(), '운영자 등록');
  assert.equal(await park.locator('input[name=token]').count(), 1);
});

test('the password page changes a password with the current one and a code', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/admin/password?name=boss`);
  await screenshot(page, 'password');
  const next = 'a brand new passphrase 2026';
  await page.fill('input[name=password]', PASSWORD);
  await page.fill('input[name=code]', await freshTotp(ops.boss.secret, ops.boss.used));
  await page.fill('input[name=new_password]', next);
  await page.fill('input[name=new_password_again]', next);
  await page.click('button[type=submit]');
  assert.equal(await page.locator('h1').innerText(), '비밀번호를 변경했습니다');
});
