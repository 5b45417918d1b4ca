// The personal data the tests send, from tests/pii.txt: the list scripts/check_logs_pii.py
// searches every serve log for (tests/support.rs reads the same file for the Rust suites).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.mjs';

/** `{ customer_name, customer_phone, ... }`: every `key value` line of tests/pii.txt. */
export function pii() {
  const values = {};
  for (const line of readFileSync(path.join(repoRoot, 'tests', 'pii.txt'), 'utf8').split('\n')) {
    const text = line.trim();
    if (!text || text.startsWith('#')) continue;
    const [key, ...rest] = text.split(/\s+/);
    values[key] = rest.join(' ');
  }
  return values;
}
