// Webhooks as operators see them: the demo merchant's receiver fails until its deliveries are
// dead-lettered (an incident opens); once it answers again, an admin resends one event from
// the attempts list, and every dead-lettered delivery of the endpoint from the endpoint's row;
// the incident is acknowledged and resolved with its history shown.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { acceptDialogs, asMerchant, createOperator, enrol, launchBrowser, logIn, newPage, screenshot, startServer } from './lib/harness.mjs';

let server;
let browser;
let receiver;
let healthy = false;
/** Event ids the receiver answered 200 to, in order. */
const delivered = [];
let failures = 0;
const ops = {};
let endpoint;

/** Waits until `check()` is true, polling every 200 ms for up to `ms`. */
async function until(check, what, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

before(async () => {
  receiver = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      if (healthy) delivered.push(JSON.parse(body).id);
      else failures += 1;
      response.writeHead(healthy ? 200 : 500).end();
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  let token;
  server = await startServer({
    name: 'webhooks',
    env: { VACCOUNT_ALLOW_PRIVATE_WEBHOOKS: 'true', VACCOUNT_WEBHOOK_RETRY_SCHEDULE: '1s' },
    setup: (dataDir) => {
      token = createOperator(dataDir, 'kim', 'admin');
    },
  });
  ops.kim = await enrol(server, 'kim', token);
  browser = await launchBrowser();
  const demo = server.demo();
  endpoint = asMerchant(server, demo, 'POST', '/v1/webhook-endpoints', { url: `http://127.0.0.1:${receiver.address().port}/hook` });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  receiver?.close();
});

test('an admin resends a dead-lettered event, then every dead letter of the endpoint', async () => {
  const demo = server.demo();
  const first = asMerchant(server, demo, 'POST', '/v1/virtual-accounts', { order_id: 'W-1', amount: 35000, bank_code: '004' });
  // The first attempt and its one retry fail: the delivery is dead-lettered.
  await until(() => failures >= 2, 'two failed attempts');
  const page = await newPage(browser);
  const asked = acceptDialogs(page);
  await logIn(page, server, ops.kim, { next: `/admin/webhooks?merchant_id=${demo.merchant_id}&outcome=failed` });
  await until(async () => {
    await page.reload();
    return (await page.locator('#list tbody tr.row').count()) >= 2;
  }, 'the failed attempts listed');
  assert.match(await page.locator('#endpoints').innerText(), new RegExp(endpoint.id));
  await screenshot(page, 'webhooks');

  healthy = true;
  const event = await page.locator('[data-testid=resend]').first().getAttribute('data-event');
  await page.locator('[data-testid=resend]').first().click();
  await page.locator('#notice', { hasText: `이벤트 ${event}를 다시 보냈습니다` }).waitFor();
  assert.match(asked.at(-1), /다시 보냅니다/);
  await until(() => delivered.includes(event), 'the resent event at the receiver');
  await page.goto(`${server.url}/admin/webhooks?merchant_id=${demo.merchant_id}&outcome=succeeded`);
  assert.match(await page.locator('#list').innerText(), /성공/);

  // Another event dead-lettered while the receiver is down, resent with the endpoint's button.
  healthy = false;
  const before = failures;
  asMerchant(server, demo, 'POST', '/v1/virtual-accounts', { order_id: 'W-2', amount: 35000, bank_code: '004' });
  await until(() => failures >= before + 2, 'the second event dead-lettered');
  // The dead letter is recorded just after the last failed attempt.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  healthy = true;
  const count = delivered.length;
  await page.goto(`${server.url}/admin/webhooks?merchant_id=${demo.merchant_id}`);
  await page.locator(`#endpoints tr[data-row="${endpoint.id}"] [data-testid=resend-dead-letters]`).click();
  await page.locator('#notice', { hasText: '다시 보냈습니다' }).waitFor();
  await until(() => delivered.length > count, 'the dead letters at the receiver');
  assert.ok(first.id, 'the first account was issued');
});

test('the dead letters opened an incident, acknowledged and resolved with its history', async () => {
  const page = await newPage(browser);
  acceptDialogs(page);
  await logIn(page, server, ops.kim, { next: '/admin/incidents?status=open' });
  const row = page.locator('#list tbody tr.row', { hasText: 'webhook.dead_lettered' }).first();
  await row.waitFor();
  await screenshot(page, 'incidents');
  const id = await row.getAttribute('data-row');
  await page.goto(`${server.url}/admin/incidents/${id}`);
  await page.locator('[data-testid=acknowledge]').click();
  await page.locator('#notice', { hasText: '확인 처리했습니다' }).waitFor();
  await page.locator('#incident', { hasText: '확인: kim' }).waitFor();
  await page.locator('[data-testid=resolve-incident]').click();
  await page.locator('#incident', { hasText: '해결: kim' }).waitFor();
  assert.match(await page.locator('#incident').innerText(), /해결됨/);
  await screenshot(page, 'incident');
});
