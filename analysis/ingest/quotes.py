"""Broken quotes in a CSV file: the lines where a quoted value is opened and not properly closed.

A quoted value may span lines (a turn's text with line breaks), so a stray `"` would make every
line up to the next quote in the file, or the rest of the file, one value: DuckDB then rejects
that whole stretch as one row, or, reading the file in parallel, silently drops the lines its
thread read inside the false quote (1M rows, one unclosed quote in the middle: ~100k rows gone,
DuckDB 2.0). So a record that starts on a line holding a quote must be well-formed CSV with the
header's number of fields, ending at a line break. One that is not is a broken quote, unless it is
well-formed CSV ending on its own line (then only its field count is wrong, DuckDB's to reject as
any other malformed row): that line alone is set aside (quarantined by load.py) and reading
resumes on the next line, which starts a new record.

Only run for a file in which DuckDB met a quote it could not parse (its rejects say so); the file
DuckDB then reads is a copy with those lines emptied, so every other line keeps its number.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

# A field as DuckDB reads it: quoted (doubled quotes inside, line breaks allowed), unquoted (a quote
# after its first character is a plain character) or empty. Atomic groups and possessive repeats:
# a failed match gives up at once instead of trying every split of a long value.
_FIELD = rb'(?>"(?:[^"]++|"")*+"|[^,"\r\n][^,\r\n]*+|)'
_END = rb"(?:\r\n|\n|\r|\Z)"
_ONE_LINE = re.compile(rb"(?>" + _FIELD + rb"(?:," + _FIELD + rb")*+)" + _END)


def _record(fields: int) -> re.Pattern:
    """A whole record of exactly `fields` fields, ending at a line break or the end of the file."""
    return re.compile(_FIELD + rb"(?:," + _FIELD + rb"){" + str(fields - 1).encode() + rb"}" + _END)


def broken_quote_lines(path: Path, fields: int) -> list[tuple[int, bytes]]:
    """(physical line number, its text) of each line set aside for a broken quote (see the module).
    Lines are counted by line feeds, the header being line 1."""
    data = path.read_bytes()
    record = _record(max(fields, 1))
    found = []
    pos = data.find(b"\n") + 1  # the record after the header (sources.read_header refused a broken header)
    line = 2
    while pos and (quote := data.find(b'"', pos)) >= 0:
        start = data.rfind(b"\n", pos, quote) + 1 or pos  # the start of the quote's line
        line += data.count(b"\n", pos, start)
        if match := record.match(data, start):
            line += data.count(b"\n", start, match.end())
            pos = match.end()
            continue
        end = data.find(b"\n", start) + 1 or len(data)
        alone = _ONE_LINE.match(data, start)
        if not (alone and alone.end() <= end):  # the record does not end on its own line
            found.append((line, data[start:end].rstrip(b"\r\n")))
        line += 1
        pos = end if end < len(data) else 0
    return found


def emptied_copy(path: Path, lines: list[int]) -> Path:
    """A temporary copy of the file with the given lines emptied (line breaks kept, so line numbers
    stay those of the file). The caller deletes it."""
    data = path.read_bytes()
    emptied = set(lines)
    fd, name = tempfile.mkstemp(prefix="ingest-", suffix=".csv")
    with os.fdopen(fd, "wb") as out:
        for number, text in enumerate(data.split(b"\n"), start=1):
            if number > 1:
                out.write(b"\n")
            if number not in emptied:
                out.write(text)
            elif text.endswith(b"\r"):
                out.write(b"\r")
    return Path(name)
