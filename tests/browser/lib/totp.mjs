// One-time codes as an operator's authenticator app computes them: RFC 6238 TOTP over RFC 4226
// HOTP, HMAC-SHA-1, 6 digits, 30-second steps, from the base32 secret of the enrolment.

import { createHmac } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 to bytes; case, spaces and `=` padding are ignored. */
export function base32Decode(text) {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const bytes = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(char)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** RFC 4226 HOTP of `key` (bytes) at `counter`. */
export function hotp(key, counter, { digits = 6, algorithm = 'sha1' } = {}) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/**
 * The TOTP code of a base32 `secret` at `time` (ms since the epoch, default now).
 * `digits`, `period` (s) and `algorithm` default to what the enrolment uses: 6, 30, SHA-1.
 */
export function totp(secret, { time = Date.now(), digits = 6, period = 30, algorithm = 'sha1' } = {}) {
  return hotp(base32Decode(secret), Math.floor(time / 1000 / period), { digits, algorithm });
}

/** The secret and settings of an `otpauth://totp/…?secret=…` enrolment URI (the QR code's text). */
export function parseOtpauth(uri) {
  const url = new URL(uri);
  if (url.protocol !== 'otpauth:' || url.host !== 'totp') throw new Error(`not an otpauth://totp URI: ${uri}`);
  const secret = url.searchParams.get('secret');
  if (!secret) throw new Error(`no secret in ${uri}`);
  return {
    secret,
    digits: Number(url.searchParams.get('digits') ?? 6),
    period: Number(url.searchParams.get('period') ?? 30),
    algorithm: (url.searchParams.get('algorithm') ?? 'SHA1').toLowerCase(),
  };
}

/**
 * A code from a time step later than every earlier code of this test: the server accepts a code
 * only from a step after the last one it took, and one step of drift either way. So the next
 * step is used at once when it is at most one ahead of the clock; only beyond that, wait.
 */
export async function freshTotp(secret, used, { period = 30, ...options } = {}) {
  const stepAt = (time) => Math.floor(time / 1000 / period);
  const last = used.size ? Math.max(...used) : -Infinity;
  const step = Math.max(stepAt(Date.now()), last + 1);
  while (step > stepAt(Date.now()) + 1) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  used.add(step);
  return totp(secret, { time: step * period * 1000, period, ...options });
}
