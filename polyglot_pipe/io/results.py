"""Results files read back: the records `run` wrote, checked against the record schema.

For `review`, `show` and library users who post-process a run's JSONL: every record
is checked to have what a report needs, with the right types, and a bad one is a
ReviewError naming the file, the record number and the field.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from polyglot_pipe.errors import ReviewError
from polyglot_pipe.io.writers.jsonl import read_jsonl
from polyglot_pipe.io.writers.markdown import is_foreign
from polyglot_pipe.model import RECORD_FIELDS

__all__ = ["load_records", "filter_records"]

#: The Python types of the record schema's kinds (model.RECORD_FIELDS).
_PY_KIND = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,), "list[str]": (list,), "object": (dict,)}
#: field -> the types its value may have.  A report cannot be drawn without the required ones.
_REQUIRED = {"doc": (str,), "index": (int,), "original": (str,), "lang": (str,), "status": (str,)}
_OPTIONAL = {
    f.name: _PY_KIND[f.kind] + ((type(None),) if f.nullable else ())
    for f in RECORD_FIELDS
    if f.name not in _REQUIRED
}


def filter_records(records: Iterable[dict], langs=None, statuses=None, foreign_only=False) -> list[dict]:
    return [
        r
        for r in records
        if (not langs or r["lang"] in langs)
        and (not statuses or r["status"] in statuses)
        and (not foreign_only or is_foreign(r))
    ]


def load_records(path: str) -> list[dict]:
    """The records of a results JSONL, checked; ReviewError says which line is wrong and how."""
    try:
        if path == "-":
            stream = sys.stdin
            return _checked(read_jsonl(stream), "stdin")
        with open(path, encoding="utf-8") as stream:
            return _checked(read_jsonl(stream), path)
    except FileNotFoundError:
        raise ReviewError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ReviewError(f"{path}: a directory, not a results file") from None
    except UnicodeDecodeError as exc:
        raise ReviewError(f"{path}: not UTF-8 text (byte {exc.start}); is this a results JSONL?") from None
    except OSError as exc:
        raise ReviewError(f"{path}: {exc.strerror or exc}") from None


def _checked(records: Iterable[dict], name: str) -> list[dict]:
    checked = []
    try:
        for number, record in enumerate(records, 1):
            checked.append(_check_record(record, f"{name}: record {number}"))
    except UnicodeDecodeError:
        raise  # load_records words it
    except ReviewError as exc:  # read_jsonl names the line
        raise ReviewError(f"{name}: {exc}") from None
    return checked


def _check_record(record, where: str) -> dict:
    if not isinstance(record, dict):
        raise ReviewError(f"{where}: a JSON {type(record).__name__}, not an object with fragment fields")
    for field, types in _REQUIRED.items():
        if field not in record:
            raise ReviewError(f"{where}: missing field {field!r} (is this the output of `polyglot-pipe run`?)")
        if not isinstance(record[field], types) or isinstance(record[field], bool):
            raise ReviewError(f"{where}: field {field!r} should be {types[0].__name__}, not {type(record[field]).__name__}")
    for field, types in _OPTIONAL.items():
        if field in record and not isinstance(record[field], types):
            raise ReviewError(f"{where}: field {field!r} has the wrong type ({type(record[field]).__name__})")
    return record
