-- Broken promises and what followed: a complaint or a presumed contact-rule breach within 30 days.
-- Grain: one row per broken promise: due in $start..$end, its window (due_date + 3) closed by $as_of, not kept.
-- Parameters: $start $end $as_of (UTC dates) $portfolios $teams $strategies $limit. Reads the stored
-- breaches (derived table `breaches`, empty before the audit has run). Units: amounts in currency;
-- followed_by_*: a complaint received / a breaching contact on a UTC date in (due_date, due_date + 30].
-- Order and size: the followed first, the latest due first; the first $limit rows (null = all: the Promises view
--   asks for the rows it lists, its download for all). *_total: every row's counts before the limit, on each row
--   (broken, followed by a complaint, by a breach, by either), so one pass gives the view its counts and rows.
with

accounts as (
    select a.account_id, a.team, a.strategy
    from accounts as a
    where account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
),

promises as (
    select
        pr.promise_id,
        pr.account_id,
        pr.agent_id,
        pr.amount,
        pr.due_date,
        cast(utc_timestamp(pr.created_at) as date) as created_date,
        a.team,
        a.strategy
    from promises as pr
    inner join accounts as a on pr.account_id = a.account_id
    where pr.due_date between $start and $end
        and pr.due_date + 3 < $as_of
),

paid as (
    select pr.promise_id, coalesce(sum(p.amount), 0) as paid_in_window
    from promises as pr
    left join payments as p
        on pr.account_id = p.account_id
        and cast(utc_timestamp(p.paid_at) as date) between pr.created_date and pr.due_date + 3
    group by pr.promise_id
),

broken as (
    select pr.*, pd.paid_in_window
    from promises as pr
    inner join paid as pd on pr.promise_id = pd.promise_id
    where pd.paid_in_window < pr.amount
),

followups as (
    select
        b.promise_id,
        b.account_id,
        b.team,
        b.strategy,
        b.agent_id,
        b.due_date,
        b.amount as promised_amount,
        b.paid_in_window,
        exists(
            select 1 from complaints as k
            where k.account_id = b.account_id
                and cast(utc_timestamp(k.received_at) as date) > b.due_date
                and cast(utc_timestamp(k.received_at) as date) <= b.due_date + 30
        ) as followed_by_complaint,
        exists(
            select 1 from breaches as e
            where e.account_id = b.account_id
                and cast(utc_timestamp(cast(e.ts as timestamptz)) as date) > b.due_date
                and cast(utc_timestamp(cast(e.ts as timestamptz)) as date) <= b.due_date + 30
        ) as followed_by_breach
    from broken as b
),

final as (
    select
        *,
        count(*) over () as broken_total,
        cast(sum(cast(followed_by_complaint as integer)) over () as bigint) as complaint_total,
        cast(sum(cast(followed_by_breach as integer)) over () as bigint) as breach_total,
        cast(sum(cast(followed_by_complaint or followed_by_breach as integer)) over () as bigint) as followed_total
    from followups
)

select * from final
order by followed_by_complaint or followed_by_breach desc, due_date desc, promise_id desc
limit $limit
