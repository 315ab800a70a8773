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

from . import Summary

__all__ = ["write_tsv", "TSV_COLUMNS"]

TSV_COLUMNS = ("doc", "index", "lang", "original", "english")


def write_tsv(records: Iterable[dict], out: TextIO, summary: Summary | None = None) -> None:
    writer = csv.writer(out, dialect="excel-tab", lineterminator="\n")
    writer.writerow(TSV_COLUMNS)
    for record in records:
        writer.writerow(["" if record.get(column) is None else record[column] for column in TSV_COLUMNS])
