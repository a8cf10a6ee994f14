-- The Contact plan page's headline figures over the stored plan (contact_plan) and the stored scores
-- (propensity_scores) of one date and model, in the sidebar's filters and the queues chosen.
-- Grain: one row (the selection).
-- Reads: contact_plan, propensity_scores, accounts (portfolio, team, strategy).
-- Parameters: $as_of (date), $model_id, $portfolios, $teams, $strategies, $channels, $queues (lists,
--   empty = all), $n (accounts the plan is measured on).
-- Columns: selected_rows, dialer_rows; accounts_offered, dialer_accounts, specialist_accounts (distinct
--   accounts of the selection); top_n and plan_expected (how many of the selection's first $n accounts by
--   account_rank there are, and the sum of their expected collection); offered_accounts (accounts offered
--   on any channel and queue in the account filters); open_accounts and open_expected_sum (the open
--   accounts of the account filters, and the numerator of their mean expected collection). Units: currency.
with

plan as (
    select account_id, channel, queue, account_rank, expected_collection, portfolio, team, strategy
    from contact_plan
    where as_of = $as_of and model_id = $model_id
),

scores as (
    select account_id, expected_collection
    from propensity_scores
    where as_of = $as_of and model_id = $model_id
),

accounts as (
    select account_id, portfolio, team, strategy from accounts
),

in_accounts as (
    select account_id, channel, queue, account_rank, expected_collection
    from plan
    where account_chosen($portfolios, $teams, $strategies, portfolio, team, strategy)
),

selected as (
    select account_id, queue, account_rank, expected_collection
    from in_accounts
    where chosen($channels, channel) and chosen($queues, queue)
),

firsts as (
    select
        account_id,
        min(account_rank) as account_rank,
        max(expected_collection) as expected_collection
    from selected
    group by account_id
),

placed as (
    select
        expected_collection,
        row_number() over (order by account_rank) as place
    from firsts
),

pool as (
    select s.expected_collection
    from scores as s
    inner join accounts as a on s.account_id = a.account_id
    where account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
),

selection as (
    select
        count(*) as selected_rows,
        count(*) filter (where queue = 'dialer') as dialer_rows,
        count(distinct account_id) as accounts_offered,
        count(distinct account_id) filter (where queue = 'dialer') as dialer_accounts,
        count(distinct account_id) filter (where queue = 'specialist') as specialist_accounts
    from selected
),

top_n as (
    select
        count(*) as top_n,
        coalesce(sum(expected_collection), 0) as plan_expected
    from placed
    where place <= $n
),

offered as (
    select count(distinct account_id) as offered_accounts from in_accounts
),

open_pool as (
    select
        count(*) as open_accounts,
        sum(expected_collection) as open_expected_sum
    from pool
),

final as (
    select
        s.selected_rows,
        s.dialer_rows,
        s.accounts_offered,
        s.dialer_accounts,
        s.specialist_accounts,
        t.top_n,
        t.plan_expected,
        o.offered_accounts,
        p.open_accounts,
        p.open_expected_sum
    from selection as s
    cross join top_n as t
    cross join offered as o
    cross join open_pool as p
)

select * from final
