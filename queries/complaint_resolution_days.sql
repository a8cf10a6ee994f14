-- Resolution times: one row per complaint resolved within the filter range (resolved_at's date in $tz).
-- Grain: one row per complaint resolved in the filter range (complaint_id unique).
-- Parameters: $tz; shared filters $start, $end (dates in $tz, inclusive), $portfolios, $teams, $strategies.
-- Units: resolution_days = (resolved_at - received_at) in days of 86,400 s, fractional.
with complaints as (
    select * from complaints
),

accounts as (
    select account_id, portfolio, team, strategy from accounts
),

scoped as (
    select c.*, a.portfolio, a.team, a.strategy
    from complaints as c
    left join accounts as a on a.account_id = c.account_id
    where account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
),

final as (
    select
        complaint_id,
        coalesce(source, 'consumer') as source,
        category,
        received_at,
        resolved_at,
        resolution_seconds(received_at, resolved_at) / 86400 as resolution_days
    from scoped
    where cast(timezone($tz, resolved_at) as date) between $start and $end
)

select * from final
order by resolution_days, complaint_id
