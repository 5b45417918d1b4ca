"""Prints the rows of an XLSX file as JSON, for tests/browser/lib/xlsx.mjs.

Usage: xlsx_rows.py FILE [SHEET]

Output: {"sheets": [names], "sheet": name, "rows": [[cell, ...], ...]}, cells as openpyxl reads
them (numbers, strings, booleans, null), dates and times as ISO 8601 text. The first sheet
unless SHEET names another.
"""

import datetime
import json
import sys

import openpyxl


def cell(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    return value


def main():
    book = openpyxl.load_workbook(sys.argv[1], read_only=True, data_only=True)
    sheet = book[sys.argv[2]] if len(sys.argv) > 2 else book.worksheets[0]
    rows = [[cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    json.dump({"sheets": book.sheetnames, "sheet": sheet.title, "rows": rows}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
