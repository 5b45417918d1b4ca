// The exceptions queue as operators work it: an underpaid deposit of a merchant that requires
// approval, resolved (a refund) by one admin and approved by another; the proposer may not
// approve it; a viewer sees it without buttons and with personal data masked, and the API
// refuses their resolve; the filtered list downloaded as XLSX holds exactly its rows.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { acceptDialogs, asMerchant, createOperator, deposit, enrol, fromPage, launchBrowser, logIn, newPage, pii, readXlsx, screenshot, startServer, vaccount } from './lib/harness.mjs';

let server;
let browser;
let strict;
const tokens = {};
const ops = {};
const { customer_name, depositor_name, other_depositor_name, refund_account } = pii();

before(async () => {
  server = await startServer({
    name: 'exceptions',
    setup: (dataDir) => {
      strict = vaccount(dataDir, 'merchant', 'create', '--name', '승인 가맹점', '--require-approval');
      tokens.kim = createOperator(dataDir, 'kim', 'admin');
      tokens.lee = createOperator(dataDir, 'lee', 'admin');
      tokens.view = createOperator(dataDir, 'view', 'viewer');
    },
  });
  for (const name of Object.keys(tokens)) ops[name] = await enrol(server, name, tokens[name]);
  browser = await launchBrowser();
  // Two underpaid deposits to the strict merchant's accounts, one by another depositor.
  for (const [order, name] of [['A-1', depositor_name], ['A-2', other_depositor_name]]) {
    const account = asMerchant(server, strict, 'POST', '/v1/virtual-accounts', { order_id: order, amount: 35000, bank_code: '004', customer: { name: customer_name } });
    deposit(server, { account: account.account_number, amount: 30000, name });
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const listPath = () => `/admin/exceptions?merchant_id=${strict.merchant_id}&state=open`;

test('a viewer sees the exception masked and without buttons, and the API refuses their resolve', async () => {
  const page = await newPage(browser);
  await logIn(page, server, ops.view, { next: listPath() });
  const rows = page.locator('#list tbody tr.row');
  assert.equal(await rows.count(), 2);
  const text = await page.locator('#list').innerText();
  assert.match(text, /30,000원/);
  assert.ok(!text.includes(depositor_name) && text.includes(`${depositor_name[0]}*${depositor_name.at(-1)}`), `masked depositor:\n${text}`);
  assert.equal(await page.locator('[data-testid=resolve]').count(), 0, 'no resolve button');
  assert.equal(await page.locator('[data-testid=xlsx]').count(), 0, 'no download for a viewer');
  const id = await rows.first().getAttribute('data-row');
  const refused = await fromPage(page, 'POST', `/admin/v1/exceptions/${id}/resolve`, { write_off: '조회자가 시도' });
  assert.equal(refused.status, 403);
  assert.equal(refused.json.code, 'forbidden');
  await screenshot(page, 'exceptions-viewer');
});

test('one admin proposes a refund, cannot approve it, and another admin approves it', async () => {
  const kimPage = await newPage(browser);
  const asked = acceptDialogs(kimPage);
  await logIn(kimPage, server, ops.kim, { next: listPath() });
  const id = await kimPage.locator('#list tbody tr.row', { hasText: `${depositor_name[0]}*${depositor_name.at(-1)}` }).getAttribute('data-row');
  const row = kimPage.locator(`tr.detail[data-row="${id}"]`);
  await row.locator('[data-testid=resolve] summary').click();
  const refund = row.locator('form:has(input[name="refund.holder"])');
  await refund.locator('select').selectOption('088');
  await refund.locator('input[name="refund.account_number"]').fill(refund_account);
  await refund.locator('input[name="refund.holder"]').fill(customer_name);
  assert.equal((await refund.locator('button').innerText()).trim(), '30,000원 환불', 'the button says what it does');
  await refund.locator('button').click();
  await kimPage.locator('#notice', { hasText: '환불을 등록했습니다.' }).waitFor();
  assert.match(asked.at(-1), /30,000원.*환불합니다/, 'asked before moving money');

  // Approval needed: the exception is waiting, and its proposer may not approve it.
  await kimPage.goto(`${server.url}/admin/exceptions?merchant_id=${strict.merchant_id}&state=pending_approval`);
  const pending = kimPage.locator(`tr.detail[data-row="${id}"]`);
  assert.match(await pending.innerText(), /제안: 환불 → 신한은행 110-\*\*\*-\*\*\*890/);
  await pending.locator('[data-testid=approve]').click();
  await pending.locator('.flash.error').waitFor();
  assert.match(await pending.locator('.flash.error').innerText(), /지금 상태에서는 할 수 없는 작업입니다/);
  await screenshot(kimPage, 'exceptions-pending');

  const leePage = await newPage(browser);
  const leeAsked = acceptDialogs(leePage);
  await logIn(leePage, server, ops.lee, { next: `/admin/exceptions?merchant_id=${strict.merchant_id}&state=pending_approval` });
  const toApprove = leePage.locator(`tr.detail[data-row="${id}"]`);
  assert.match(await toApprove.locator('[data-testid=approve]').innerText(), /승인 \(30,000원 환불\)/);
  await toApprove.locator('[data-testid=approve]').click();
  await leePage.locator('#notice', { hasText: '승인했습니다' }).waitFor();
  assert.match(leeAsked.at(-1), /승인합니다/);
  assert.equal(await leePage.locator(`#list tr[data-row="${id}"]`).count(), 0, 'no longer waiting');

  await leePage.goto(`${server.url}/admin/exceptions?merchant_id=${strict.merchant_id}&state=resolved`);
  assert.match(await leePage.locator(`#list tr.row[data-row="${id}"]`).innerText(), /해결됨/);
  assert.match(await leePage.locator(`#list tr.detail[data-row="${id}"]`).innerText(), /환불 → 신한은행/);
  await screenshot(leePage, 'exceptions-resolved');
});

test('the XLSX download holds exactly the filtered rows', async () => {
  const page = await newPage(browser);
  await logIn(page, server, ops.lee, { next: `/admin/exceptions?merchant_id=${strict.merchant_id}&state=open` });
  const shown = await page.locator('#list tbody tr.row').count();
  assert.equal(shown, 1, 'one exception is still open');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=xlsx]')]);
  assert.match(download.suggestedFilename(), /\.xlsx$/);
  // openpyxl goes by the file's extension, which Playwright's temporary file lacks.
  const { rows } = readXlsx(readFileSync(await download.path()));
  assert.equal(rows.length, 1 + shown, `header and the filtered rows: ${JSON.stringify(rows)}`);
  const flat = JSON.stringify(rows);
  assert.ok(flat.includes(strict.merchant_id) && !flat.includes('pending_approval') && !flat.includes('resolved'), flat);
});
