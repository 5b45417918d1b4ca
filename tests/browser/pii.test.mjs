// The personal data list the browser tests share with the Rust suites and the log check.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pii } from './lib/pii.mjs';

test('tests/pii.txt gives every value the suites send', () => {
  const values = pii();
  for (const key of ['customer_name', 'customer_phone', 'customer_email', 'depositor_name', 'other_depositor_name', 'refund_account']) {
    assert.ok(values[key], `tests/pii.txt has no ${key}`);
  }
  assert.match(values.customer_phone, /^01\d{8,9}$/);
  assert.match(values.customer_email, /@/);
});
