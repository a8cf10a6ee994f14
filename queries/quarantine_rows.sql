-- Quarantined rows with their file, line, raw text and reason.
-- Grain: one row per quarantined row, newest import first, then table and line; at most $limit rows.
-- Parameters: $limit (rows). Units: line is the physical line in the file (header = 1).
with

quarantine as (
    select import_id, table_name, file, line, reason, raw from quarantine
),

final as (
    select import_id, table_name, file, line, reason, raw
    from quarantine
    order by import_id desc, table_name asc, line asc
    limit $limit
)

select * from final
