// What the dashboard's tests do again and again: operators created on the data dir before the
// server starts, enrolled through the admin API (the walk test enrols through the pages),
// logged in through the login page; a merchant's account and a deposit to it, sent as the
// merchant and the bank would (`vaccount call`, `vaccount simulate deposit`).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { vaccountBin } from './paths.mjs';
import { vaccount } from './server.mjs';
import { freshTotp } from './totp.mjs';

/** The password every test operator chooses (at least 12 characters). */
export const PASSWORD = 'correct horse battery staple';

/** `vaccount admin create-user` on a stopped data dir: the enrolment token. */
export function createOperator(dataDir, name, role, { pii = false } = {}) {
  return vaccount(dataDir, 'admin', 'create-user', '--name', name, '--role', role, ...(pii ? ['--pii'] : [])).enrolment_token;
}

/**
 * Enrols an operator through the admin API: `{ name, secret, used }`, `used` the TOTP steps
 * spent so far (see `freshTotp`).
 */
export async function enrol(server, name, token) {
  const started = await fetch(`${server.url}/admin/v1/enrolment`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, password: PASSWORD }),
  });
  assert.equal(started.status, 200, `enrol ${name}`);
  const { totp_secret: secret } = await started.json();
  const used = new Set();
  const code = await freshTotp(secret, used);
  const confirmed = await fetch(`${server.url}/admin/v1/enrolment/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, code }),
  });
  assert.equal(confirmed.status, 204, `confirm ${name}`);
  // The first code is not spent by the confirmation, but a login with it would be a second
  // use in this step: the next login waits for a new one.
  return { name, secret, used };
}

/** Logs `operator` in on the login page and waits for the page it leads to. */
export async function logIn(page, server, operator, { next = '/admin/' } = {}) {
  await page.goto(`${server.url}/admin/login?next=${encodeURIComponent(next)}`);
  await page.fill('input[name=name]', operator.name);
  await page.fill('input[name=password]', PASSWORD);
  await page.fill('input[name=code]', await freshTotp(operator.secret, operator.used));
  await Promise.all([page.waitForURL(`${server.url}${next}`), page.click('button[type=submit]')]);
}

/** Accepts every confirmation the page asks, keeping their texts in `asked`. */
export function acceptDialogs(page, asked = []) {
  page.on('dialog', async (dialog) => {
    asked.push(dialog.message());
    await dialog.accept();
  });
  return asked;
}

/** A merchant request signed with `merchant`'s key (`vaccount call`); the JSON answer. */
export function asMerchant(server, merchant, method, path, body) {
  const out = execFileSync(
    vaccountBin(),
    ['call', '--url', server.url, '--key-id', merchant.key_id, '--secret', merchant.secret, method, path, ...(body ? [JSON.stringify(body)] : [])],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return JSON.parse(out);
}

/** A deposit notice from the demo's `bank` provider (`vaccount simulate deposit`). */
export function deposit(server, { bank = '004', account, amount, name, tx }) {
  const demo = server.demo();
  execFileSync(
    vaccountBin(),
    [
      'simulate', 'deposit', '--url', server.url, '--provider', demo.provider_id, '--secret', demo.provider_secret,
      '--bank', bank, '--account', account, '--amount', String(amount), ...(name ? ['--name', name] : []), ...(tx ? ['--tx', tx] : []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/** A request to the admin API from the page, as its scripts send them (cookie and CSRF token). */
export function fromPage(page, method, path, body, headers = {}) {
  return page.evaluate(
    async ({ method, path, body, headers }) => {
      const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
      const response = await fetch(path, {
        method,
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, json: text ? JSON.parse(text) : null };
    },
    { method, path, body, headers },
  );
}
