-- Tables the pipeline derives from the contract's (breaches, sentiment, QA, ...), with DuckDB's row estimate.
-- Grain: one row per table in the main schema that is neither a contract table nor a system table.
-- Parameters: $known (list of contract and system table names to leave out). Units: rows (estimate).
with

tables as (
    select table_name, estimated_size, column_count
    from duckdb_tables()
    where schema_name = 'main' and not temporary
),

final as (
    select table_name, estimated_size as estimated_rows, column_count
    from tables
    where not list_contains($known, table_name)
    order by table_name
)

select * from final
