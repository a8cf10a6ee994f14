-- Complaint handling by segment over the filter range: one row per value of $dimension.
-- Grain: one row per segment (value of $dimension) received or resolved in the range or open at $as_of.
-- Parameters: $dimension, one of category, source, team, strategy, portfolio, outcome, issue
--   (team/strategy/portfolio: of the complaint's account); $tz; $as_of (instant: the end of the
--   range, for open_at_end); shared filters $start, $end (dates in $tz, inclusive), $portfolios,
--   $teams, $strategies. Missing values are grouped as '(none)'.
-- Units: counts of complaints; redress_paid in the amount's currency over complaints resolved in the
--   range; median_resolution_days in days of 86,400 s. received: received in the range; resolved:
--   resolved in the range; open_at_end: received before $as_of and not resolved before it.
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

facts as (
    select
        coalesce(case $dimension
            when 'category' then category
            when 'source' then coalesce(source, 'consumer')
            when 'team' then team
            when 'strategy' then strategy
            when 'portfolio' then portfolio
            when 'outcome' then outcome
            when 'issue' then issue
        end, '(none)') as segment,
        received_at,
        resolved_at,
        redress_amount,
        cast(timezone($tz, received_at) as date) between $start and $end as received_in_range,
        cast(timezone($tz, resolved_at) as date) between $start and $end as resolved_in_range,
        resolution_seconds(received_at, resolved_at) as resolution_s
    from scoped
),

final as (
    select
        segment,
        count(*) filter (where received_in_range) as received,
        count(*) filter (where resolved_in_range) as resolved,
        count(*) filter (where resolved_in_range and within_8_weeks(resolution_s)) as resolved_within_8_weeks,
        median(resolution_s / 86400) filter (where resolved_in_range) as median_resolution_days,
        count(*) filter (where received_at < $as_of and (resolved_at is null or resolved_at >= $as_of)) as open_at_end,
        coalesce(sum(redress_amount) filter (where resolved_in_range), 0) as redress_paid
    from facts
    group by segment
)

select * from final
where received > 0 or resolved > 0 or open_at_end > 0
order by received desc, segment asc
