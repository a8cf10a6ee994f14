-- Best time to reach: outbound contacts on one channel and how many reached the right party,
-- by the account's local weekday and hour.
-- Grain: one row per local weekday (isodow 1 = Monday .. 7) x local hour (0..23) with at least one attempt.
-- Parameters: $channel, shared filters $start $end (UTC dates of ts) $portfolios $teams $strategies.
-- Units: counts. Reached: a call with outcome conversation; on other channels, an inbound contact of the
-- account on the same channel within 24 hours after it (a reply). rate = reached / attempts, in Python.
with

accounts as (
    select a.account_id, a.timezone
    from accounts as a
    where account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
),

outbound as (
    select c.contact_id, c.account_id, c.ts, c.channel, c.outcome, timezone(a.timezone, c.ts) as local_ts
    from contacts as c
    inner join accounts as a on c.account_id = a.account_id
    where c.direction = 'outbound'
        and c.channel = $channel
        and utc_day_between(c.ts, $start, $end)
),

inbound as (
    select c.account_id, c.channel, c.ts
    from contacts as c
    where c.direction = 'inbound' and c.channel = $channel
),

replied as (
    select o.contact_id, i.ts as reply_ts
    from outbound as o
    asof left join inbound as i
        on o.account_id = i.account_id
        and o.channel = i.channel
        and o.ts < i.ts
),

scored as (
    select
        isodow(o.local_ts) as weekday,
        hour(o.local_ts) as local_hour,
        case
            when o.channel = 'call' then is_right_party(o.channel, o.outcome)
            else r.reply_ts is not null and r.reply_ts <= o.ts + interval 24 hour
        end as reached
    from outbound as o
    inner join replied as r on o.contact_id = r.contact_id
),

final as (
    select weekday, local_hour, count(*) as attempts, count(*) filter (where reached) as reached
    from scored
    group by weekday, local_hour
)

select * from final
order by weekday, local_hour
