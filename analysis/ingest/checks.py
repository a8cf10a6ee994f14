"""The checking SQL, generated from `analysis.schema`: one query types every column of a file and
lists the rules each row breaks, then two updates add unknown accounts and duplicate keys.

Identifiers pass through `quote_ident`, our own constants through `lit`; the only user values, the
file path and the assumed zone, are the bound parameters $path and $zone.
"""
from __future__ import annotations

from analysis.db import quote_ident
from analysis.ingest.sources import Source, reader
from analysis.ingest.sql import lit
from analysis.schema import CALL_OUTCOMES, SQL_TYPES, Column, Table

# Values of the contract's types, as regular expressions (matched allowing blanks around the value).
INT_RE = r"[+-]?[0-9]+"
AMOUNT_RE = r"[+-]?([0-9]+([.][0-9]{0,2})?|[.][0-9]{1,2})"
DATE_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?"
TS_OFFSET_RE = _TIME + r"([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)"
TS_NAIVE_RE = _TIME
NUL_REASON = "malformed row: a NUL byte (binary zero) in a value; remove it or export the file again as text"
BOOL_TRUE = ("true", "1", "yes")
BOOL_FALSE = ("false", "0", "no")

TYPE_WORDS = {
    "int": "a whole number",
    "amount": "an amount with at most 2 decimal places",
    "date": "a date YYYY-MM-DD",
    "bool": "a boolean (true/false/1/0/yes/no)",
    "tz": "an IANA time zone name such as America/Chicago",
    "timestamp": "an ISO 8601 timestamp such as 2026-03-08T14:05:00Z",
}

# A naive wall time in a zone -> the instant. ICU's timezone() maps a nonexistent wall time (DST gap)
# forward and an ambiguous one (DST overlap) to its later instant. We keep the earlier instant of an
# ambiguous time (Python's zoneinfo fold=0) and return NULL for a nonexistent one (quarantined).
# `earlier` reads the wall time with the offset in force 6 hours before `later`.
LOCAL_INSTANT_MACROS = [
    "create or replace temp macro _ingest_later(local_ts, zone) as timezone(zone, local_ts)",
    """create or replace temp macro _ingest_earlier(local_ts, zone) as timezone('UTC', local_ts - (
        timezone(zone, _ingest_later(local_ts, zone) - interval 6 hour)
        - (_ingest_later(local_ts, zone) - interval 6 hour)::timestamp))""",
    """create or replace temp macro _ingest_local_instant(local_ts, zone) as case
        when _ingest_earlier(local_ts, zone) < _ingest_later(local_ts, zone)
             and timezone(zone, _ingest_earlier(local_ts, zone)) = local_ts then _ingest_earlier(local_ts, zone)
        when timezone(zone, _ingest_later(local_ts, zone)) = local_ts then _ingest_later(local_ts, zone)
    end""",
]


# --------------------------------------------------------------------------------------------
# One column: its typed value, the cheap test that it is valid, the reasons when it is not
# --------------------------------------------------------------------------------------------

def _one_of(expr: str, values) -> str:
    """expr is one of our constants. An OR chain: DuckDB plans `IN (...)` as a join, which evaluates
    its key for every row and so defeats the lazy CASE branches below."""
    return "(" + " or ".join(f"{expr} = {lit(v)}" for v in values) + ")"


def _padded(pattern: str) -> str:
    return r"\s*(" + pattern + r")\s*"


def _enum(raw: str, values) -> str:
    """An enum value: exact first, else trimmed and lower-cased."""
    return (f"case when {_one_of(raw, values)} then {raw} "
            f"when {_one_of(f'lower(trim({raw}))', values)} then lower(trim({raw})) end")


def _typed(col: Column, raw: str, assume_tz: bool) -> str:
    """Expression giving the typed value of a column from its raw text (NULL when missing or bad).

    Written for speed on millions of rows: the exact, common form is tested first and `trim`/`lower`
    (slow: they are Unicode-aware) only run on the rows that fail it; casts accept surrounding blanks.
    """
    t = f"trim({raw})"
    if col.enum:
        return _enum(raw, col.enum)
    if col.type == "str":
        # kept exactly as given (turn text, ids); a blank value is a missing one
        return f"nullif(upper({t}), '')" if col.name == "state" else f"case when ascii({raw}) > 32 then {raw} when {t} <> '' then {raw} end"
    if col.type in ("int", "amount", "date"):
        pattern = {"int": INT_RE, "amount": AMOUNT_RE, "date": DATE_RE}[col.type]
        return f"case when regexp_full_match({raw}, {lit(_padded(pattern))}) then try_cast({raw} as {SQL_TYPES[col.type]}) end"
    if col.type == "bool":
        return (f"case when {_one_of(raw, BOOL_TRUE)} then true when {_one_of(raw, BOOL_FALSE)} then false "
                f"when {_one_of(f'lower({t})', BOOL_TRUE)} then true when {_one_of(f'lower({t})', BOOL_FALSE)} then false end")
    if col.type == "tz":
        return f"case when {raw} in (select name from _ingest_zones) then {raw} when {t} in (select name from _ingest_zones) then {t} end"
    if col.type == "timestamp":
        with_offset = f"when regexp_full_match({raw}, {lit(_padded(TS_OFFSET_RE))}) then try_cast({raw} as timestamptz)"
        if not assume_tz:
            return f"case {with_offset} end"
        # naive wall time in the assumed zone: see LOCAL_INSTANT_MACROS
        return (f"case {with_offset} when regexp_full_match({raw}, {lit(_padded(TS_NAIVE_RE))}) "
                f"then _ingest_local_instant(try_cast({raw} as timestamp), $zone) end")
    raise ValueError(col.type)


def _ok(col: Column, raw: str, typed: str, present: bool) -> list[str]:
    """Cheap conditions that hold for a valid value: the reasons are only worked out for rows failing one."""
    if not present:
        return []
    if col.required:
        out = [f"{typed} is not null"]
    elif col.type == "str" and not col.enum:
        out = []  # free text: anything goes
    else:
        out = [f"({raw} is null or {typed} is not null)"]
    if col.min_value is not None:
        out.append(f"coalesce({typed} {'>' if col.min_exclusive else '>='} {col.min_value:g}, true)")
    if col.max_value is not None:
        out.append(f"coalesce({typed} <= {col.max_value:g}, true)")
    return out


def _reasons(table: Table, col: Column, raw: str, typed: str, present: bool, assume_tz: bool) -> list[str]:
    """Expressions giving a reason text when the column breaks a rule, else NULL."""
    name = col.name
    missing = f"({raw} is null or trim({raw}) = '')"
    out = []
    if not present:
        return out
    if col.required:
        out.append(f"case when {missing} then {lit(name + ': required value missing')} end")
    if table.name == "contacts" and name == "outcome":
        return out  # checked with the channel, in _cross_column_checks
    if col.enum:
        out.append(f"case when not {missing} and {typed} is null then {lit(name + ': must be one of ' + ', '.join(col.enum))} end")
    elif col.type == "timestamp":
        out += _timestamp_reasons(name, raw, typed, missing, assume_tz)
    elif col.type in TYPE_WORDS:
        out.append(f"case when not {missing} and {typed} is null then {lit(name + ': not ' + TYPE_WORDS[col.type])} end")
    if col.min_value is not None:
        op, word = (">", "greater than") if col.min_exclusive else (">=", "at least")
        out.append(f"case when not ({typed} {op} {col.min_value:g}) then {lit(f'{name}: must be {word} {col.min_value:g}')} end")
    if col.max_value is not None:
        out.append(f"case when {typed} > {col.max_value:g} then {lit(f'{name}: must be at most {col.max_value:g}')} end")
    return out


def _timestamp_reasons(name: str, raw: str, typed: str, missing: str, assume_tz: bool) -> list[str]:
    """A timestamp without offset is told apart from one that is no timestamp at all."""
    t = f"trim({raw})"
    naive = f"(regexp_full_match({t}, {lit(TS_NAIVE_RE)}) and try_cast({t} as timestamp) is not null)"
    if assume_tz:
        first = (f"case when not {missing} and {typed} is null and {naive} "
                 f"then {lit(name + ': local time that does not exist in the assumed zone (skipped by a daylight-saving change)')} end")
    else:
        first = (f"case when not {missing} and {naive} "
                 f"then {lit(name + ': timestamp without UTC offset; add Z or +hh:mm, or name its zone with --assume-timezone')} end")
    return [first, f"case when not {missing} and {typed} is null and not {naive} then {lit(name + ': not ' + TYPE_WORDS['timestamp'])} end"]


# --------------------------------------------------------------------------------------------
# A whole file
# --------------------------------------------------------------------------------------------

def _column_checks(source: Source, assume_tz: bool) -> tuple[list[str], list[str], list[str], list[str]]:
    """Per column of the contract: the raw text kept (`raw_<name>`), the typed value, the validity
    conditions and the reason expressions (the last two read the typed step, alias `t`)."""
    raw_cols, typed_cols, oks, reasons = [], [], [], []
    for col in source.table.columns:
        present = col.name in source.columns
        if present:
            raw_cols.append(f"s.{quote_ident(source.columns[col.name])} as {quote_ident('raw_' + col.name)}")
        typed = _typed(col, f"s.{quote_ident(source.columns[col.name])}" if present else "null::varchar", assume_tz)
        typed_cols.append(f"{typed} as {quote_ident(col.name)}")
        raw, typed_ref = f"t.{quote_ident('raw_' + col.name)}", f"t.{quote_ident(col.name)}"
        oks += _ok(col, raw, typed_ref, present)
        reasons += _reasons(source.table, col, raw, typed_ref, present, assume_tz)
    if source.has_nul:  # only for a file that has one (sources.read_header): a test per value of every row
        any_nul = " or ".join(f"contains(s.{quote_ident(c)}, chr(0))" for c in source.file_columns)
        raw_cols.append(f"({any_nul}) as _nul")
        oks.append("not t._nul")
        reasons.append(f"case when t._nul then {lit(NUL_REASON)} end")
    return raw_cols, typed_cols, oks, reasons


def _cross_column_checks(source: Source) -> tuple[list[str], list[str], list[str]]:
    """Rules that read several columns: columns computed after typing, validity conditions, reasons."""
    table = source.table
    after_typed, oks, reasons = [], [], []
    if table.name == "contacts":
        # outcome: for calls one of the call outcomes (typed like an enum), for other channels free text
        # (typed only on call rows, from the typed channel: on the others it is never read, and the
        # enum's lower/trim fallback on their free text was a tenth of the query)
        raw = quote_ident("raw_outcome") if "outcome" in source.columns else "null::varchar"
        after_typed.append(f"case when channel = 'call' then {_enum(raw, CALL_OUTCOMES)} end as outcome_call")
        oks.append("(t.channel <> 'call' or t.outcome_call is not null)")
        reasons.append(f"case when t.channel = 'call' and t.outcome is null then 'outcome: required for calls' "
                       f"when t.channel = 'call' and t.outcome_call is null "
                       f"then {lit('outcome: must be one of ' + ', '.join(CALL_OUTCOMES) + ' for calls')} end")
    if "nps_or_csat" in table.extra_checks:
        # "at least one" is about both being empty; a bad value has its own reason
        given = [f"nullif(trim(t.{quote_ident('raw_' + c)}), '') is null" for c in ("nps", "csat") if c in source.columns]
        oks.append("(t.nps is not null or t.csat is not null)")
        reasons.append(f"case when {' and '.join(given) or 'true'} then 'nps or csat: at least one is required' end")
    if "resolved_after_received" in table.extra_checks:
        oks.append("coalesce(t.resolved_at >= t.received_at, true)")
        reasons.append("case when t.resolved_at < t.received_at then 'resolved_at: before received_at' end")
    return after_typed, oks, reasons


def stored_value(table: Table, col: Column) -> str:
    """The value stored: defaults of the contract applied. Idempotent (applied to a stored value it
    gives that value), so the checked rows carry it and the statements storing them may apply it again."""
    name = quote_ident(col.name)
    if table.name == "accounts" and col.name == "vulnerable":
        return f"coalesce({name}, false)"
    if table.name == "complaints" and col.name == "source":
        return f"coalesce({name}, 'consumer')"
    if table.name == "contacts" and col.name == "outcome":
        return ("case when channel = 'call' then outcome_call "
                "else coalesce(outcome, case direction when 'outbound' then 'sent' else 'received' end) end")
    return name


def checked_sql(source: Source, assume_tz: bool, temp: bool = True) -> str:
    """The query typing every column of the staged file and listing the rules each row breaks.

    Its table `_ingest_checked` has the contract's columns in order, holding the values to store
    (`stored_value`: defaults applied), then the helper columns of `_cross_column_checks`, then
    `reason`. `temp=False` makes it a table of the database (in the import's transaction) that can
    become the contract's table itself once the bad rows and the helper columns are dropped
    (load.py, `_adopt_checked`): the rows are then written once, not staged and copied."""
    raw_cols, typed_cols, oks, reasons = _column_checks(source, assume_tz)
    after_typed, row_oks, row_reasons = _cross_column_checks(source)
    oks, reasons = oks + row_oks, reasons + row_reasons
    ok = " and ".join(oks) or "true"
    reason = f"case when {ok} then null else nullif(concat_ws('; ', {', '.join(reasons)}), '') end" if reasons else "null::varchar"
    raw_names = ", ".join(quote_ident("raw_" + c) for c in source.columns) + (", _nul" if source.has_nul else "")
    defaults = ", ".join(f"{stored_value(source.table, c)} as {quote_ident(c.name)}" for c in source.table.columns
                         if stored_value(source.table, c) != quote_ident(c.name))
    replace = f" replace ({defaults})" if defaults else ""
    # Projections of the file's scan only (no join, no window): DuckDB keeps file order in the
    # table it creates, so a row's rank by `rowid` is its position among the rows it parsed (see reader).
    return f"""
create or replace {'temp ' if temp else ''}table _ingest_checked as
with staged as (
    select * from {reader(source)}
),

typed as (
    select *{''.join(', ' + c for c in after_typed)}
    from (select {', '.join(raw_cols + typed_cols)} from staged as s)
),

final as (
    select t.* exclude ({raw_names}){replace}, {reason} as reason
    from typed as t
)

select * from final"""


def unknown_accounts_sql(table: Table) -> str | None:
    """Rows whose account_id is not in accounts get that reason too (after the others, as the last
    rule checked). An UPDATE after the typing query rather than a join inside it: a join there
    could reorder rows, and the typing query must keep file order (see checked_sql)."""
    if not table.references_account:
        return None
    return """
update _ingest_checked as c
set reason = case when c.reason is null then 'account_id: unknown account' else c.reason || '; account_id: unknown account' end
where c.account_id is not null
    and not exists (select 1 from accounts as known where known.account_id = c.account_id)"""


def duplicates_exist_sql(table: Table) -> str:
    """Whether two valid rows of the file share a key: one aggregate, so that the UPDATE of
    `duplicates_sql` (the same aggregate joined back to every row) only runs when one does."""
    key_cols = ", ".join(quote_ident(k) for k in table.key)
    return f"""
select count(*) > 0 from (
    select 1 from _ingest_checked where reason is null
    group by {key_cols} having count(*) > 1
    limit 1
)"""


def duplicates_sql(table: Table) -> str:
    """Duplicate keys within the file: the first valid row of a key loads, later ones are quarantined."""
    key_cols = ", ".join(quote_ident(k) for k in table.key)
    key_match = " and ".join(f"c.{quote_ident(k)} = d.{quote_ident(k)}" for k in table.key)
    reason = lit("duplicate key (" + ", ".join(table.key) + "): an earlier row of this file has the same; the first is kept")
    return f"""
update _ingest_checked as c
set reason = {reason}
from (
    select {key_cols}, min(rowid) as first_rec
    from _ingest_checked where reason is null
    group by {key_cols} having count(*) > 1
) as d
where {key_match} and c.reason is null and c.rowid > d.first_rec"""
