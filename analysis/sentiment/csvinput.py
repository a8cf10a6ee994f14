"""Reading a CSV the way `python -m analysis sentiment` reads it: its encoding and its header.

Shared by the local path (analysis.sentiment.cli) and Spark's (analysis.spark.sentiment), so both
refuse the same files with the same one-line messages.
"""
from __future__ import annotations

import codecs
from pathlib import Path

from analysis.errors import UserError

BLOCK = 1 << 20


def sniff_encoding(path: Path) -> tuple[str, int, bool]:
    """(encoding, approximate line count, fell back to latin-1) after one streaming pass over the bytes."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", 0, False
        else:
            encoding = "utf-8"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        lines, valid = 0, True
        while block := f.read(BLOCK):
            lines += block.count(b"\n")
            if valid:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    valid = False
        if valid:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                valid = False
    return (encoding, lines, False) if valid else ("latin-1", lines, True)


def local_csv_header(src: Path, encoding_arg: str | None, text_column: str) -> tuple[str, list[str]]:
    """(encoding, column names) of a local CSV as the local path reads it; one-line UserErrors for an
    unknown encoding, an empty or unreadable header, or a text column not in it."""
    encoding, _lines, _fallback = input_encoding(src, encoding_arg)
    header = read_header(src, encoding)
    check_column(header, text_column, src)
    return encoding, list(header.columns)


def input_encoding(src: Path, encoding_arg: str | None) -> tuple[str, int, bool]:
    if encoding_arg:
        try:
            codecs.lookup(encoding_arg)
        except LookupError:
            raise UserError(f"unknown encoding {encoding_arg!r}: use e.g. utf-8, latin-1, cp1252, utf-16") from None
        return encoding_arg, 0, False
    return sniff_encoding(src)


def read_header(src: Path, encoding: str):
    import pandas as pd

    try:
        return pd.read_csv(src, dtype=str, nrows=0, encoding=encoding)
    except pd.errors.EmptyDataError:
        raise UserError(f"{src} is empty: it needs a header row naming the columns") from None
    except (UnicodeError, pd.errors.ParserError) as exc:
        raise UserError(f"cannot read the header of {src} as {encoding} ({str(exc).splitlines()[0]}): fix the file or pass --encoding") from None


def check_column(header, text_column: str, src) -> None:
    if text_column not in header.columns:
        cols = ", ".join(list(header.columns)[:20])
        raise UserError(f"column {text_column!r} not in {src} (columns: {cols}): pass --text-column with one of them")
