-- Months of the reporting zone in which anything happened: the months a scorecard can be asked for.
-- Grain: one row per month (month_start: first day of the month in zone $tz) with at least one event.
-- Parameters: $tz (IANA zone). Events: account placed, contact, survey response, complaint received
-- or resolved, payment, promise created or due. Units: event counts (contacts counted once per
-- 15-minute bucket, which is all this query's callers need: whether a month has events).
with

events as (
    select cast(date_trunc('month', a.placed_date) as date) as month_start from accounts as a
    union all
    -- contacts are many: convert each distinct 15-minute bucket once (every zone's midnight falls on one)
    select cast(date_trunc('month', timezone($tz, q.bucket)) as date)
    from (select distinct time_bucket(interval 15 minute, c.ts) as bucket from contacts as c) as q
    union all
    select cast(date_trunc('month', timezone($tz, s.responded_at)) as date) from surveys as s
    union all
    select cast(date_trunc('month', timezone($tz, k.received_at)) as date) from complaints as k
    union all
    select cast(date_trunc('month', timezone($tz, k.resolved_at)) as date)
    from complaints as k where k.resolved_at is not null
    union all
    select cast(date_trunc('month', timezone($tz, p.paid_at)) as date) from payments as p
    union all
    select cast(date_trunc('month', timezone($tz, pr.created_at)) as date) from promises as pr
    union all
    select cast(date_trunc('month', pr.due_date) as date) from promises as pr
),

final as (
    select month_start, count(*) as events
    from events
    group by month_start
)

select * from final
order by month_start
