-- Promises to pay made, due and kept per team and agent: promises_by_agent.sql's rows, read from the
-- aggregate table promise_facts (analysis/aggregates.py), where each promise's paid_in_window is stored.
-- Grain: one row per team x agent_id (the promise's agent; team from agents, else the account's team).
-- Parameters: shared filters $start $end (UTC dates: created_at date for made, due_date for due)
-- $portfolios $teams $strategies. Units: counts; promised_amount_due and paid_toward_due in currency.
-- kept: paid_in_window reaches the promised amount. kept_rate = kept / due, in Python.
with

filtered as (
    select
        team,
        coalesce(agent_id, '(none)') as agent_id,
        created_date,
        due_date,
        amount as promised_amount,
        paid_in_window
    from promise_facts
    where chosen($portfolios, portfolio)
        and chosen($strategies, strategy)
        and chosen($teams, team)
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
