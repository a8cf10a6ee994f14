-- Best time to reach: contactability_heatmap.sql's rows, read from the aggregate table outbound_facts
-- (analysis/aggregates.py), where each outbound contact's local weekday, hour and reach are stored.
-- Grain: one row per local weekday (isodow 1 = Monday .. 7) x local hour (0..23) with at least one attempt.
-- Parameters: $channel, shared filters $start $end (UTC dates of ts) $portfolios $teams $strategies.
-- Units: counts. Reached: a call with outcome conversation; on other channels, an inbound contact of the
-- account on the same channel within 24 hours after it (a reply). rate = reached / attempts, in Python.
with

final as (
    select weekday, local_hour, count(*) as attempts, count(*) filter (where reached) as reached
    from outbound_facts
    where channel = $channel
        and day between $start and $end
        and account_chosen($portfolios, $teams, $strategies, portfolio, team, strategy)
    group by weekday, local_hour
)

select * from final
order by weekday, local_hour
