// The XLSX reader: a workbook written by openpyxl comes back as the rows that were written.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { venvPython } from './lib/paths.mjs';
import { readXlsx } from './lib/xlsx.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vaccount-xlsx-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(file) {
  const python = `
import datetime, sys, openpyxl
book = openpyxl.Workbook()
sheet = book.active
sheet.title = "입금"
sheet.append(["입금 ID", "금액", "입금자", "입금 시각"])
sheet.append(["dep_1", 35000, "홍*동", datetime.datetime(2026, 11, 24, 10, 0)])
sheet.append(["dep_2", 1000, None, datetime.datetime(2026, 11, 24, 10, 5)])
book.create_sheet("요약").append(["합계", 36000])
book.save(sys.argv[1])
`;
  execFileSync(venvPython(), ['-c', python, file]);
}

test('rows of the first sheet, or of a named one, from a path or from bytes', () => {
  const file = path.join(dir, 'deposits.xlsx');
  write(file);
  const read = readXlsx(file);
  assert.deepEqual(read.sheets, ['입금', '요약']);
  assert.equal(read.sheet, '입금');
  assert.deepEqual(read.rows, [
    ['입금 ID', '금액', '입금자', '입금 시각'],
    ['dep_1', 35000, '홍*동', '2026-11-24T10:00:00'],
    ['dep_2', 1000, null, '2026-11-24T10:05:00'],
  ]);
  assert.deepEqual(readXlsx(readFileSync(file), { sheet: '요약' }).rows, [['합계', 36000]]);
});
