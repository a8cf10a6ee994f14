"""What an import changed, so that the derived tables can be refreshed for those keys only.

The importer (analysis.ingest.load) calls `note` for each file, inside its transaction, after the
file's rows are checked and before they are stored: it records the keys the file's valid rows carry
and, for a row that replaces a stored one, the stored row's values too (a contact moved to another
account changes both accounts). `collect` then turns them into a `Changes`, which the import returns
as `ImportResult.changed` and `analysis.pipeline.refresh(con, changed=...)` reads.

Keys recorded (the columns the derived steps partition by): account_id, consumer_id,
conversation_id, response_id, per contract table. A column that is part of the table's key has the
same value in the stored row it replaces, so only the file's values are needed there.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from analysis.db import quote_ident

# The scratch table `_refresh_changed` is a temp table of the importing connection, dropped by `collect`.
KINDS = ("account_id", "consumer_id", "conversation_id", "response_id")


@dataclass(frozen=True)
class Changes:
    """The keys one import touched. `import_id`: that import's number (import_log)."""

    import_id: int
    # table -> column -> the values of that column in the rows the import added or replaced (the
    # file's values and the replaced rows' values)
    keys: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    # The database file the importing version was copied from (analysis.store.writing), when there was
    # one: the data and derived tables as they were before the import. The aggregates step reads the
    # touched accounts' rows there to take their old share out of contact_daily.
    previous: str | None = None

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(self.keys)

    def values(self, column: str, *tables: str) -> frozenset[str]:
        """The values of `column` touched in `tables` (all tables when none are named)."""
        out: set[str] = set()
        for table, cols in self.keys.items():
            if not tables or table in tables:
                out |= cols.get(column, frozenset())
        return frozenset(out)


def note(con, table) -> None:
    """Record the keys of the valid rows of `_ingest_checked` (the file being imported into `table`,
    an analysis.schema.Table) and of the stored rows they replace. Runs inside the import's transaction."""
    con.execute("create temp table if not exists _refresh_changed (table_name varchar, kind varchar, value varchar)")
    # the table itself (kind ''), when it got any row: a step may read a table without these keys
    con.execute("insert into _refresh_changed select $table, '', '' where exists "
                "(select 1 from _ingest_checked where reason is null)", {"table": table.name})
    columns = [c.name for c in table.columns if c.name in KINDS]
    stored = con.execute(f"select count(*) > 0 from (select 1 from {quote_ident(table.name)} limit 1)").fetchall()[0][0]
    key_match = " and ".join(f"c.{quote_ident(k)} = o.{quote_ident(k)}" for k in table.key)
    for column in columns:
        col = quote_ident(column)
        parts = [f"select {col} as value from _ingest_checked where reason is null"]
        if stored and column not in table.key:
            parts.append(f"select o.{col} from {quote_ident(table.name)} as o semi join "
                         f"(select * from _ingest_checked where reason is null) as c on {key_match}")
        con.execute("insert into _refresh_changed select distinct $table, $kind, value from ("
                    + " union all ".join(parts) + ") where value is not null",
                    {"table": table.name, "kind": column})


def collect(con, import_id: int) -> Changes:
    """The recorded keys as a `Changes` (empty when nothing was noted); drops the scratch table."""
    con.execute("create temp table if not exists _refresh_changed (table_name varchar, kind varchar, value varchar)")
    found = con.execute("select table_name, kind, list(distinct value) from _refresh_changed group by all").fetchall()
    con.execute("drop table _refresh_changed")
    keys: dict[str, dict[str, frozenset[str]]] = {}
    for table, kind, values in found:
        keys.setdefault(table, {})
        if kind:
            keys[table][kind] = frozenset(values)
    return Changes(import_id, keys)
