-- Rows in each table of the import contract, and in the quarantine.
-- Grain: one row per table, in contract order. Parameters: none. Units: rows.
with

counts as (
    select 1 as ord, 'accounts' as table_name, count(*) as row_count from accounts
    union all
    select 2 as ord, 'contacts' as table_name, count(*) as row_count from contacts
    union all
    select 3 as ord, 'consents' as table_name, count(*) as row_count from consents
    union all
    select 4 as ord, 'preferences' as table_name, count(*) as row_count from preferences
    union all
    select 5 as ord, 'agents' as table_name, count(*) as row_count from agents
    union all
    select 6 as ord, 'conversations' as table_name, count(*) as row_count from conversations
    union all
    select 7 as ord, 'turns' as table_name, count(*) as row_count from turns
    union all
    select 8 as ord, 'surveys' as table_name, count(*) as row_count from surveys
    union all
    select 9 as ord, 'complaints' as table_name, count(*) as row_count from complaints
    union all
    select 10 as ord, 'payments' as table_name, count(*) as row_count from payments
    union all
    select 11 as ord, 'promises' as table_name, count(*) as row_count from promises
    union all
    select 12 as ord, 'quarantine' as table_name, count(*) as row_count from quarantine
),

final as (
    select table_name, row_count
    from counts
    order by ord
)

select * from final
