-- Why rows were quarantined: a summary for the Data page.
-- Grain: one row per (import_id, table_name, reason), newest import first, then most rows.
-- Parameters: none. Units: rows.
with

quarantine as (
    select import_id, table_name, reason from quarantine
),

final as (
    select import_id, table_name, reason, count(*) as row_count
    from quarantine
    group by import_id, table_name, reason
    order by import_id desc, row_count desc, table_name asc, reason asc
)

select * from final
