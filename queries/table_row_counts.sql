-- Rows in each table of the import contract, and in the quarantine.
-- Grain: one row per table, in contract order. Parameters: none. Units: rows.
with

counts as (
    select 1 as ord, 'accounts' as table_name, count(*) as row_count from accounts
    union all select 2, 'contacts', count(*) from contacts
    union all select 3, 'consents', count(*) from consents
    union all select 4, 'preferences', count(*) from preferences
    union all select 5, 'agents', count(*) from agents
    union all select 6, 'conversations', count(*) from conversations
    union all select 7, 'turns', count(*) from turns
    union all select 8, 'surveys', count(*) from surveys
    union all select 9, 'complaints', count(*) from complaints
    union all select 10, 'payments', count(*) from payments
    union all select 11, 'promises', count(*) from promises
    union all select 12, 'quarantine', count(*) from quarantine
),

final as (
    select table_name, row_count
    from counts
    order by ord
)

select * from final
