"""Reads a settlement's CSV and XLSX as a merchant's tools would, and prints what they hold.

Usage: settlement_files.py FILE.csv FILE.xlsx

The CSV must start with a UTF-8 BOM and end every line with CRLF; it is parsed with Python's
csv module after the BOM is stripped. The XLSX is opened with openpyxl; rows of every sheet
are joined (each sheet repeats the header). Prints JSON: {"csv": [[...]], "xlsx": [[...]],
"sheets": [...], "frozen": [...], "amount_formats": [...]}; numbers from the XLSX are printed as
integers in text, as the CSV has them. Exits non-zero with a message when a rule is broken.
"""

import csv
import io
import json
import sys

import openpyxl


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def read_csv(path):
    raw = open(path, "rb").read()
    if not raw.startswith(b"\xef\xbb\xbf"):
        fail("CSV does not start with a UTF-8 BOM")
    body = raw[3:]
    if body.replace(b"\r\n", b"").count(b"\n") or body.replace(b"\r\n", b"").count(b"\r"):
        fail("CSV has a line end that is not CRLF")
    return [row for row in csv.reader(io.StringIO(body.decode("utf-8"), newline=""))]


def cell_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(path):
    book = openpyxl.load_workbook(path)
    rows, frozen, formats = [], [], []
    header = None
    for sheet in book.worksheets:
        frozen.append(sheet.freeze_panes)
        sheet_rows = [[cell_text(c.value) for c in row] for row in sheet.iter_rows()]
        if not sheet_rows:
            fail(f"sheet {sheet.title} is empty")
        if header is None:
            header = sheet_rows[0]
            rows.append(header)
        elif sheet_rows[0] != header:
            fail(f"sheet {sheet.title} does not repeat the header")
        rows.extend(sheet_rows[1:])
        if sheet.max_row > 1:
            formats.append(sheet.cell(row=2, column=sheet.max_column).number_format)
    return rows, [s.title for s in book.worksheets], frozen, formats


def main():
    csv_rows = read_csv(sys.argv[1])
    xlsx_rows, sheets, frozen, formats = read_xlsx(sys.argv[2])
    json.dump({"csv": csv_rows, "xlsx": xlsx_rows, "sheets": sheets, "frozen": frozen, "amount_formats": formats}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
