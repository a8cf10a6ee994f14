-- Choices for the dashboard's shared sidebar filters that come from the accounts.
-- Grain: one row per (filter, value); filter is portfolio, team or strategy; nulls and blanks left out.
-- Parameters: none. Units: none (labels).
with

accounts as (
    select portfolio, team, strategy from accounts
),

choices as (
    select 'portfolio' as filter, portfolio as value from accounts
    union
    select 'team' as filter, team as value from accounts
    union
    select 'strategy' as filter, strategy as value from accounts
),

final as (
    select filter, value
    from choices
    where value is not null and trim(value) <> ''
    order by filter, value
)

select * from final
