// Every page of the dashboard, opened by a super_admin on a demo server with some business on
// it (accounts, a matched deposit, an underpaid one, notices), saved as a screenshot for
// docs/dashboard.md; personal data whole for the operator with `pii` and masked for one
// without; a page a role may not open refused in Korean.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { acceptDialogs, asMerchant, createOperator, deposit, enrol, freshTotp, launchBrowser, logIn, newPage, pii, screenshot, startServer } from './lib/harness.mjs';

let server;
let browser;
const ops = {};
let paid;
const { customer_name, customer_phone, customer_email, depositor_name } = pii();

before(async () => {
  const tokens = {};
  server = await startServer({
    name: 'pages',
    setup: (dataDir) => {
      tokens.boss = createOperator(dataDir, 'boss', 'super_admin', { pii: true });
      tokens.view = createOperator(dataDir, 'view', 'viewer');
    },
  });
  for (const name of Object.keys(tokens)) ops[name] = await enrol(server, name, tokens[name]);
  browser = await launchBrowser();
  const demo = server.demo();
  const customer = { name: customer_name, phone: customer_phone, email: customer_email };
  paid = asMerchant(server, demo, 'POST', '/v1/virtual-accounts', { order_id: 'P-1', amount: 35000, bank_code: '004', customer });
  const short = asMerchant(server, demo, 'POST', '/v1/virtual-accounts', { order_id: 'P-2', amount: 50000, bank_code: '088', customer });
  asMerchant(server, demo, 'POST', '/v1/virtual-accounts', { order_id: 'P-3', amount: 12000, bank_code: '020' });
  deposit(server, { account: paid.account_number, amount: 35000, name: depositor_name });
  deposit(server, { bank: '088', account: short.account_number, amount: 20000, name: depositor_name });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const PAGES = [
  ['home', '/admin/', '오늘의 현황'],
  ['exceptions', '/admin/exceptions?state=open', '입금 예외'],
  ['notices', '/admin/notices', '고객 알림'],
  ['merchants', '/admin/merchants', '가맹점'],
  ['virtual-accounts', '/admin/virtual-accounts', '가상계좌'],
  ['deposits', '/admin/deposits', '입금'],
  ['settlements', '/admin/settlements', '정산'],
  ['reconciliation', '/admin/reconciliation', '대사 결과'],
  ['pool', '/admin/pool', '번호 풀'],
  ['audit', '/admin/audit', '감사 로그'],
];

test('a super_admin opens every page', async () => {
  const page = await newPage(browser);
  await logIn(page, server, ops.boss);
  for (const [name, path, title] of PAGES) {
    const response = await page.goto(`${server.url}${path}`);
    assert.equal(response.status(), 200, path);
    assert.equal(await page.locator('main h1').innerText(), title, path);
    assert.equal(await page.locator('.flash.error').count(), 0, `${path}: ${await page.locator('main').innerText()}`);
    // The exceptions page is shown with its resolve forms open.
    if (name === 'exceptions') await page.locator('[data-testid=resolve] summary').first().click();
    await screenshot(page, name);
  }
  const demo = server.demo();
  await page.goto(`${server.url}/admin/merchants/${demo.merchant_id}`);
  assert.equal(await page.locator('main h1').innerText(), 'Demo Mall');
  await screenshot(page, 'merchant');
  await page.goto(`${server.url}/admin/virtual-accounts/${paid.id}`);
  await screenshot(page, 'virtual-account');
  assert.match(await page.locator('main').innerText(), new RegExp(customer_name), 'whole for an operator with pii');
});

test('a super_admin changes a merchant\'s fee only with a fresh code and issues a replacement key', async () => {
  const page = await newPage(browser);
  const asked = acceptDialogs(page);
  const demo = server.demo();
  await logIn(page, server, ops.boss, { next: `/admin/merchants/${demo.merchant_id}` });
  const settings = page.locator('form#settings');
  await settings.locator('input[name=fee_per_deposit]').fill('400');
  await settings.locator('input[name=step_up]').fill('000000');
  await settings.locator('button').click();
  assert.match(await settings.locator('.flash.error').innerText(), /인증 코드\(OTP\)/, 'a settings change needs a fresh code');
  await settings.locator('input[name=fee_per_deposit]').fill('400');
  await settings.locator('input[name=step_up]').fill(await freshTotp(ops.boss.secret, ops.boss.used));
  await settings.locator('button').click();
  await page.locator('#notice', { hasText: '설정을 바꿨습니다' }).waitFor();
  assert.match(await page.locator('#merchant dl').innerText(), /건당 400원/);
  assert.match(asked.at(-1), /수수료 변경은 지금 이후의 입금부터/);

  await page.locator('[data-testid=add-key]').click();
  await page.locator('[data-testid=new-secret]').filter({ hasText: /^[0-9a-f]{64}$/ }).waitFor();
  await page.locator('#notice', { hasText: '새 키를 발급했습니다' }).waitFor();
});

test('personal data is masked for an operator without pii, and the audit log is not theirs', async () => {
  const page = await newPage(browser);
  await logIn(page, server, ops.view, { next: `/admin/virtual-accounts/${paid.id}` });
  const text = await page.locator('main').innerText();
  assert.ok(!text.includes(customer_name) && !text.includes(customer_email), text);
  assert.match(text, /010-\*\*\*\*-5678/);
  await page.goto(`${server.url}/admin/deposits`);
  const deposits = await page.locator('#list').innerText();
  assert.ok(!deposits.includes(depositor_name) && deposits.includes(`${depositor_name[0]}*${depositor_name.at(-1)}`), deposits);
  const refused = await page.goto(`${server.url}/admin/audit`);
  assert.equal(refused.status(), 403);
  assert.equal(await page.locator('h1').innerText(), '권한이 없습니다');
  await screenshot(page, 'forbidden');
});
