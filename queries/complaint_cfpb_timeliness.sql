-- Timeliness of CFPB-sourced complaints (source = 'cfpb') received in the filter range: one row.
-- Grain: one row.
-- Parameters: $tz; $as_of (instant: the end of the range); shared filters $start, $end (dates in
--   $tz, inclusive), $portfolios, $teams, $strategies.
-- Units: counts of complaints. The CFPB expects a company response within 15 days and a final
--   response within 60 days. responded_15_known/responded_within_15_days: the export's "Timely
--   response?" when given; otherwise known when resolved (within = resolved_at - received_at
--   <= 15 x 86,400 s) or open for more than 15 days at $as_of (not within). final_60_known /
--   final_within_60_days: the same from resolved_at for 60 days (the export has no final-response date).
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
        timely_response,
        resolved_at,
        resolution_seconds(received_at, resolved_at) as resolution_s,
        (epoch_us($as_of) - epoch_us(received_at)) / 1e6 as age_s
    from scoped
    where source = 'cfpb'
        and cast(timezone($tz, received_at) as date) between $start and $end
),

final as (
    select
        count(*) as cfpb_received,
        count(*) filter (where timely_response is not null) as timely_flag_given,
        count(*) filter (
            where timely_response is not null or resolved_at is not null or age_s > 15 * 86400
        ) as responded_15_known,
        count(*) filter (
            where coalesce(timely_response, resolved_at is not null and resolution_s <= 15 * 86400)
        ) as responded_within_15_days,
        count(*) filter (where resolved_at is not null or age_s > 60 * 86400) as final_60_known,
        count(*) filter (where resolution_s <= 60 * 86400) as final_within_60_days
    from facts
)

select * from final
