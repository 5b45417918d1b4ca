"""Reads an XLSX export as an operator's tools would, and prints what it holds.

Usage: xlsx_export.py FILE.xlsx

Opens the file with openpyxl and prints JSON: {"sheets": [{"title", "frozen", "header_bold",
"widths", "rows", "formats"}]}, a sheet's rows with every cell as openpyxl reads it (text as
text, numbers as numbers, date-times as `YYYY-MM-DD HH:MM:SS`, empty cells as null), `formats`
each cell's number format, `widths` each column's width.
"""

import datetime
import json
import sys

import openpyxl
from openpyxl.utils import get_column_letter


def value_of(value):
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def read_sheet(sheet):
    rows = [[value_of(c.value) for c in row] for row in sheet.iter_rows()]
    formats = [[c.number_format for c in row] for row in sheet.iter_rows()]
    header = next(sheet.iter_rows(max_row=1), ())
    return {
        "title": sheet.title,
        "frozen": sheet.freeze_panes,
        "header_bold": bool(header) and all(c.font.b for c in header),
        "widths": [sheet.column_dimensions[get_column_letter(i + 1)].width for i in range(sheet.max_column)],
        "rows": rows,
        "formats": formats,
    }


def main():
    book = openpyxl.load_workbook(sys.argv[1])
    json.dump({"sheets": [read_sheet(s) for s in book.worksheets]}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
