// Everything a browser test needs, from one import (tests/browser/README.md).

export { launchBrowser, newPage, CHROMIUM, CHROMIUM_ARGS } from './browser.mjs';
export { repoRoot, targetDir, vaccountBin, venvPython } from './paths.mjs';
export { screenshot, screenshotDir } from './screenshots.mjs';
export { startServer, vaccount } from './server.mjs';
export { totp, hotp, base32Decode, parseOtpauth, freshTotp } from './totp.mjs';
export { readXlsx } from './xlsx.mjs';
export { pii } from './pii.mjs';
export { PASSWORD, acceptDialogs, asMerchant, createOperator, deposit, enrol, fromPage, logIn } from './dashboard.mjs';
