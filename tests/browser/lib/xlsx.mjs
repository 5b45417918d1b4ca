// XLSX files read the way a spreadsheet user's tools read them: openpyxl, in the Python of
// .venv (scripts/requirements-test.txt), not the code that wrote them.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { venvPython } from './paths.mjs';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'xlsx_rows.py');

/**
 * The rows of an XLSX workbook (a file path, or its bytes as a Buffer): `{ sheets, sheet, rows }`,
 * `rows` an array of arrays of cell values, header row included. The first sheet unless `sheet`
 * names another. With Playwright: `readXlsx(await download.path())`.
 */
export function readXlsx(file, { sheet } = {}) {
  let temp;
  if (Buffer.isBuffer(file)) {
    temp = mkdtempSync(path.join(os.tmpdir(), 'vaccount-xlsx-'));
    writeFileSync(path.join(temp, 'book.xlsx'), file);
    file = path.join(temp, 'book.xlsx');
  }
  try {
    const out = execFileSync(venvPython(), [script, file, ...(sheet ? [sheet] : [])], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    return JSON.parse(out);
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}
