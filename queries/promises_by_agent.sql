-- Promises to pay made, due and kept per team and agent (the rule of SPEC section 3, dates in UTC).
-- Grain: one row per team x agent_id (the promise's agent; team from agents, else the account's team).
-- Parameters: shared filters $start $end (UTC dates: created_at date for made, due_date for due)
-- $portfolios $teams $strategies. Units: counts; promised_amount_due and paid_in_window in currency.
-- kept: the account's payments (reversals included) with created date <= paid date <= due_date + 3
-- reach the promised amount. kept_rate = kept / due, in Python.
with

accounts as (
    select a.account_id, a.team
    from accounts as a
    where chosen($portfolios, a.portfolio)
        and chosen($strategies, a.strategy)
),

promises as (
    select
        pr.promise_id,
        pr.account_id,
        pr.amount,
        pr.due_date,
        cast(utc_timestamp(pr.created_at) as date) as created_date,
        coalesce(pr.agent_id, '(none)') as agent_id,
        coalesce(ag.team, a.team, '(none)') as team
    from promises as pr
    inner join accounts as a on pr.account_id = a.account_id
    left join agents as ag on pr.agent_id = ag.agent_id
),

payments as (
    select p.account_id, p.amount, cast(utc_timestamp(p.paid_at) as date) as paid_date
    from payments as p
),

outcomes as (
    select
        pr.promise_id,
        any_value(pr.team) as team,
        any_value(pr.agent_id) as agent_id,
        any_value(pr.created_date) as created_date,
        any_value(pr.due_date) as due_date,
        any_value(pr.amount) as promised_amount,
        coalesce(sum(p.amount), 0) as paid_in_window
    from promises as pr
    left join payments as p
        on pr.account_id = p.account_id
        and p.paid_date between pr.created_date and pr.due_date + 3
    group by pr.promise_id
),

filtered as (
    select *
    from outcomes
    where chosen($teams, team)
),

final as (
    select
        team,
        agent_id,
        count(*) filter (where created_date between $start and $end) as promises_made,
        count(*) filter (where due_date between $start and $end) as promises_due,
        count(*) filter (where due_date between $start and $end and paid_in_window >= promised_amount)
            as promises_kept,
        coalesce(sum(promised_amount) filter (where due_date between $start and $end), 0) as promised_amount_due,
        coalesce(sum(least(paid_in_window, promised_amount)) filter (where due_date between $start and $end), 0)
            as paid_toward_due
    from filtered
    group by team, agent_id
)

select * from final
order by team, agent_id
