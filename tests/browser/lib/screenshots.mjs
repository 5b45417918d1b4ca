// Screenshots of the run: target/browser-screenshots/<name>.png, one per page a test visits.
// scripts/screenshots.sh copies the ones docs/dashboard.md shows into docs/images/.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { targetDir } from './paths.mjs';

export const screenshotDir = path.join(targetDir, 'browser-screenshots');

/** Saves the whole page as target/browser-screenshots/<name>.png and returns the path. */
export async function screenshot(page, name) {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    throw new Error(`screenshot name ${JSON.stringify(name)}: lower-case letters, digits and -, as docs/images/ names them`);
  }
  mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
