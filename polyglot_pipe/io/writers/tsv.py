"""TSV: doc, index, lang, original, english — one line per fragment, for spreadsheets and `cut`.

Written with the stdlib ``csv`` module's tab dialect: a field holding a tab, a
line break or a double quote is quoted the way spreadsheets and ``csv.reader``
read back, so no fragment can shift the columns.  A missing translation is an
empty field.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from polyglot_pipe.io.writers import Summary

__all__ = ["write_tsv", "TSV_COLUMNS"]

TSV_COLUMNS = ("doc", "index", "lang", "original", "english")


def write_tsv(records: Iterable[dict], out: TextIO, summary: Summary | None = None) -> None:
    writer = csv.writer(out, dialect="excel-tab", lineterminator="\n")
    # csv quotes a field for the characters of its line terminator, and ours is "\n" (not the
    # dialect's "\r\n", which would put a \r at the end of every line for `cut`): a row with a
    # lone "\r" in it is quoted in full, or a reader would take that \r for the end of the row.
    quote_all = csv.writer(out, dialect="excel-tab", lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(TSV_COLUMNS)
    for record in records:
        row = ["" if record.get(column) is None else str(record[column]) for column in TSV_COLUMNS]
        (quote_all if any("\r" in field for field in row) else writer).writerow(row)
