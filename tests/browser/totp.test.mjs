// The TOTP helper against the test vectors of RFC 6238, Appendix B (SHA-1; its secret is the
// ASCII "12345678901234567890", base32 below), and the 6-digit codes the enrolment uses.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { base32Decode, freshTotp, parseOtpauth, totp } from './lib/totp.mjs';

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

// [time in seconds, 8-digit code] from RFC 6238, Appendix B, the SHA1 rows.
const VECTORS = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

test('base32 decodes the RFC secret', () => {
  assert.equal(base32Decode(SECRET).toString('ascii'), '12345678901234567890');
  assert.equal(base32Decode('gezd gnbv gy3t qojq gezd gnbv gy3t qojq====').toString('ascii'), '12345678901234567890');
  assert.throws(() => base32Decode('GEZ1'), /not base32/);
});

test('RFC 6238 SHA-1 vectors, 8 digits', () => {
  for (const [seconds, code] of VECTORS) {
    assert.equal(totp(SECRET, { time: seconds * 1000, digits: 8 }), code, `T = ${seconds}`);
  }
});

test('6 digits are the last 6 of the 8, the same within a 30 s step, new in the next', () => {
  for (const [seconds, code] of VECTORS) {
    assert.equal(totp(SECRET, { time: seconds * 1000 }), code.slice(-6), `T = ${seconds}`);
  }
  assert.equal(totp(SECRET, { time: 1111111110_000 }), totp(SECRET, { time: 1111111139_999 }));
  assert.notEqual(totp(SECRET, { time: 1111111139_999 }), totp(SECRET, { time: 1111111140_000 }));
});

test('an otpauth enrolment URI gives its secret and settings', () => {
  const parsed = parseOtpauth(`otpauth://totp/vaccount:ops-kim?secret=${SECRET}&issuer=vaccount&algorithm=SHA1&digits=6&period=30`);
  assert.deepEqual(parsed, { secret: SECRET, digits: 6, period: 30, algorithm: 'sha1' });
  assert.deepEqual(parseOtpauth(`otpauth://totp/x?secret=${SECRET}`), { secret: SECRET, digits: 6, period: 30, algorithm: 'sha1' });
  assert.throws(() => parseOtpauth('https://example.com/?secret=AAAA'), /otpauth/);
});

test('freshTotp hands out one code per step, waiting for the next step when this one is used', async () => {
  const used = new Set();
  // A 1 s period keeps the wait short; the enrolment's is 30 s.
  const first = await freshTotp(SECRET, used, { period: 1 });
  const second = await freshTotp(SECRET, used, { period: 1 });
  const [a, b] = [...used];
  assert.equal(used.size, 2);
  assert.ok(b > a, `steps ${a} then ${b}`);
  assert.equal(first, totp(SECRET, { time: a * 1000, period: 1 }));
  assert.equal(second, totp(SECRET, { time: b * 1000, period: 1 }));
});
