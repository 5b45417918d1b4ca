// Debian's Chromium (/usr/bin/chromium, installed by scripts/test.sh), headless, driven by
// playwright-core: Playwright never downloads a browser of its own here.

import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

// The machine's network is closed: without the background-networking flags Chromium keeps
// opening connections that are refused, and looks up Google's hosts at every start. The tests
// run as root, where Chromium's sandbox cannot start. Playwright gives every launch a new,
// empty profile directory of its own.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A headless Chromium; close it with `browser.close()` (an `after` hook). */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * A new page in a new context (its own cookies) with the settings the dashboard is seen with:
 * Korean, Seoul time, a desktop window. Downloads are accepted (XLSX exports).
 */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({
    locale: 'ko-KR',
    timezoneId: 'Asia/Seoul',
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    ...options,
  });
  return context.newPage();
}
