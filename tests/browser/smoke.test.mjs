// The harness end to end: `vaccount serve --demo` on a fresh data dir, Chromium opening its
// /healthz, the JSON checked and the page saved as target/browser-screenshots/healthz.png.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, screenshot, startServer } from './lib/harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ name: 'smoke' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('Chromium opens /healthz of serve --demo', async () => {
  const page = await newPage(browser);
  const response = await page.goto(`${server.url}/healthz`);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-type'], /^application\/json/);
  const body = await response.json();
  assert.equal(body.status, 'ok');
  assert.match(body.version, /^\d+\.\d+\.\d+/);
  // What the page shows is the same JSON.
  assert.deepEqual(JSON.parse(await page.locator('pre').innerText()), body);
  assert.ok(existsSync(await screenshot(page, 'healthz')));
});

test('the demo merchant is ready', () => {
  const demo = server.demo();
  assert.match(demo.merchant_id, /^mch_/);
  assert.match(server.stdout, /Demo merchant ready/);
});
