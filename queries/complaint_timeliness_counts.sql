-- The firm's complaint timeliness over the filter range, for the CFPB benchmark: one row.
-- Grain: one row.
-- Parameters: $tz; $as_of (instant: the end of the range); shared filters $start, $end (dates in $tz,
--   inclusive), $portfolios, $teams, $strategies.
-- Units: counts of complaints received in the range. resolved_within_15_days: resolved_at -
--   received_at <= 15 x 86,400 s; known_15_days: resolved, or open for more than 15 days at $as_of.
--   with_relief: outcome upheld or partially_upheld; with_outcome: any outcome given.
with complaints as (
    select * from complaints
),

accounts as (
    select account_id, portfolio, team, strategy from accounts
),

scoped as (
    select c.*
    from complaints as c
    left join accounts as a on a.account_id = c.account_id
    where account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
        and cast(timezone($tz, c.received_at) as date) between $start and $end
),

facts as (
    select
        outcome,
        resolved_at,
        resolution_seconds(received_at, resolved_at) as resolution_s,
        (epoch_us($as_of) - epoch_us(received_at)) / 1e6 as age_s
    from scoped
),

final as (
    select
        count(*) as received,
        count(*) filter (where resolved_at is not null or age_s > 15 * 86400) as known_15_days,
        count(*) filter (where resolution_s <= 15 * 86400) as resolved_within_15_days,
        count(outcome) as with_outcome,
        count(*) filter (where outcome in ('upheld', 'partially_upheld')) as with_relief
    from facts
)

select * from final
