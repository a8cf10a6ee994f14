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
    select
        c.outcome,
        cast(date_trunc('month', timezone($tz, c.ts)) as date) as month_start
    from contacts as c
    where c.channel = 'call' and c.direction = 'outbound'
),

per_month as (
    select
        month_start,
        count(*) as calls_placed,
        count(*) filter (where outcome = 'conversation') as calls_right_party
    from placed_calls
    group by month_start
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
