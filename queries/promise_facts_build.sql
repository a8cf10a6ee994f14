-- Promises to pay with their outcome, found once here rather than by a range join of every promise with its
-- account's payments per view (the Repayments page's promises, the rule of SPEC section 3, dates in UTC).
-- Grain: one row per promise whose account exists.
-- Inputs: promises, accounts, agents, payments. Parameters: none.
-- Units: amount and paid_in_window in currency. created_date: UTC date of created_at; paid_in_window: the
--   account's payments (reversals included) with created_date <= UTC paid date <= due_date + 3; team: the
--   promise's agent's team, else the account's, else '(none)'; account_team: the account's. agent_id as
--   stored (null: none). Ordered by due_date.
with

promises as (
    select
        pr.promise_id,
        pr.account_id,
        pr.agent_id,
        pr.amount,
        pr.due_date,
        cast(utc_timestamp(pr.created_at) as date) as created_date,
        a.portfolio,
        a.strategy,
        a.team as account_team,
        coalesce(ag.team, a.team, '(none)') as team
    from promises as pr
    inner join accounts as a on pr.account_id = a.account_id
    left join agents as ag on pr.agent_id = ag.agent_id
),

payments as (
    select p.account_id, p.amount, cast(utc_timestamp(p.paid_at) as date) as paid_date
    from payments as p
),

final as (
    select
        pr.promise_id,
        any_value(pr.account_id) as account_id,
        any_value(pr.agent_id) as agent_id,
        any_value(pr.portfolio) as portfolio,
        any_value(pr.strategy) as strategy,
        any_value(pr.account_team) as account_team,
        any_value(pr.team) as team,
        any_value(pr.created_date) as created_date,
        any_value(pr.due_date) as due_date,
        any_value(pr.amount) as amount,
        coalesce(sum(p.amount), 0) as paid_in_window
    from promises as pr
    left join payments as p
        on pr.account_id = p.account_id
        and p.paid_date between pr.created_date and pr.due_date + 3
    group by pr.promise_id
)

select * from final
order by due_date, promise_id
