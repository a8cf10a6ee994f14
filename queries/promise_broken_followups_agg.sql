-- Broken promises and what followed: promise_broken_followups.sql's rows, the promises and their
-- paid_in_window read from the aggregate table promise_facts (analysis/aggregates.py).
-- Grain: one row per broken promise: due in $start..$end, its window (due_date + 3) closed by $as_of, not kept.
-- Parameters: $start $end $as_of (UTC dates) $portfolios $teams $strategies (the account's) $limit. Reads the stored
-- breaches (derived table `breaches`, empty before the audit has run). Units: amounts in currency;
-- followed_by_*: a complaint received / a breaching contact on a UTC date in (due_date, due_date + 30].
-- Order and size: the followed first, the latest due first; the first $limit rows (null = all: the Promises view
--   asks for the rows it lists, its download for all). *_total: every row's counts before the limit, on each row
--   (broken, followed by a complaint, by a breach, by either), so one pass gives the view its counts and rows.
with

broken as (
    select
        promise_id,
        account_id,
        account_team as team,
        strategy,
        agent_id,
        due_date,
        amount as promised_amount,
        paid_in_window
    from promise_facts
    where account_chosen($portfolios, $teams, $strategies, portfolio, account_team, strategy)
        and due_date between $start and $end
        and due_date + 3 < $as_of
        and paid_in_window < amount
),

followups as (
    select
        b.promise_id,
        b.account_id,
        b.team,
        b.strategy,
        b.agent_id,
        b.due_date,
        b.promised_amount,
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
