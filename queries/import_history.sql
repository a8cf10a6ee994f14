-- The import log: what each import read, loaded and quarantined, per table and file.
-- Grain: one row per (import_id, table_name, file), newest import first.
-- Parameters: none. Units: rows; started_at/finished_at are UTC instants; seconds = finished - started.
with

import_log as (
    select * from import_log
),

final as (
    select
        import_id,
        started_at,
        finished_at,
        epoch(finished_at) - epoch(started_at) as seconds,
        source,
        table_name,
        file,
        rows_read,
        rows_loaded,
        rows_quarantined
    from import_log
    order by import_id desc, table_name asc, file asc
)

select * from final
