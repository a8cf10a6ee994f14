-- The span of contact dates, the default of the shared date-range filter.
-- Grain: one row. Parameters: none. Units: UTC calendar dates (null when there are no contacts).
with

contacts as (
    select ts from contacts
),

final as (
    select
        cast(timezone('UTC', min(ts)) as date) as first_date,
        cast(timezone('UTC', max(ts)) as date) as last_date
    from contacts
)

select * from final
