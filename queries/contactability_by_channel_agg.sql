-- Best channel to reach: contactability_by_channel.sql's rows, read from the aggregate table outbound_facts
-- (analysis/aggregates.py), where each outbound contact's reach is stored.
-- Grain: one row per channel with at least one outbound contact.
-- Parameters: shared filters $start $end (UTC dates of ts) $portfolios $teams $strategies $channels.
-- Units: counts. Reached: a call with outcome conversation; on other channels, an inbound contact of the
-- account on the same channel within 24 hours after it (a reply). rate = reached / attempts, in Python.
-- Accounts contacted (reached) are counted without a distinct: an account's first outbound contact
-- (reaching contact) on the channel in the date range is the one whose previous one, prev_day
-- (prev_reached_day), is before $start or absent.
with

final as (
    select
        channel,
        count(*) as attempts,
        count(*) filter (where reached) as reached,
        count(*) filter (where prev_day is null or prev_day < $start) as accounts_contacted,
        count(*) filter (where reached and (prev_reached_day is null or prev_reached_day < $start)) as accounts_reached
    from outbound_facts
    where chosen($channels, channel)
        and day between $start and $end
        and account_chosen($portfolios, $teams, $strategies, portfolio, team, strategy)
    group by channel
)

select * from final
order by channel
