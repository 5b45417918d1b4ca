// Where the browser suite finds the repository, the cargo target dir, the `vaccount` binary and
// the Python of `.venv` (tests/browser/README.md).

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Cargo's target dir: `CARGO_TARGET_DIR` (relative to the repository) or `target/`. */
export const targetDir = path.resolve(repoRoot, process.env.CARGO_TARGET_DIR ?? 'target');

/**
 * The `vaccount` binary under test: `VACCOUNT_BIN` (scripts/test.sh sets it; relative to the
 * current directory), else the debug build in the target dir.
 */
export function vaccountBin() {
  const bin = process.env.VACCOUNT_BIN ? path.resolve(process.env.VACCOUNT_BIN) : path.join(targetDir, 'debug', 'vaccount');
  if (!existsSync(bin)) {
    throw new Error(`no vaccount binary at ${bin}: run \`cargo build -p vaccount-cli\` or set VACCOUNT_BIN`);
  }
  return bin;
}

/** The Python of `.venv`, which scripts/test.sh installs with openpyxl. */
export function venvPython() {
  const python = path.join(repoRoot, '.venv', 'bin', 'python');
  if (!existsSync(python)) {
    throw new Error(`no ${python}: run scripts/test.sh once, it installs .venv with the Python test tools`);
  }
  return python;
}
