-- Placed calls and right-party contacts per month of the reporting zone (SPEC section 3).
-- Grain: one row per month (month_start: first day of the month in zone $tz), $first_month..$last_month.
-- Parameters: $tz (IANA zone), $first_month, $last_month (first days of months, inclusive).
-- Units: counts. A placed call: channel = call and direction = outbound; right-party contact:
-- a placed call with outcome = conversation. Rate = 100 * rpc / placed, in Python.
with

months as (
    select cast(g.m as date) as month_start
    from generate_series(cast($first_month as timestamp), cast($last_month as timestamp), interval 1 month) as g (m)
),

placed_calls as (
    -- counted per 15-minute bucket first, so that the zone conversion runs once per bucket:
    -- every zone's local midnight falls on a 15-minute boundary, so a bucket never spans two months
    select
        time_bucket(interval 15 minute, c.ts) as bucket,
        count(*) as calls,
        count(*) filter (where is_right_party(c.channel, c.outcome)) as right_party
    from contacts as c
    where is_placed_call(c.channel, c.direction)
    group by bucket
),

per_month as (
    select
        cast(date_trunc('month', timezone($tz, bucket)) as date) as month_start,
        sum(calls) as calls_placed,
        sum(right_party) as calls_right_party
    from placed_calls
    group by all
),

final as (
    select
        m.month_start,
        coalesce(p.calls_placed, 0) as calls_placed,
        coalesce(p.calls_right_party, 0) as calls_right_party
    from months as m
    left join per_month as p on m.month_start = p.month_start
)

select * from final
order by month_start
