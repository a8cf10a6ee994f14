-- The open accounts a plan is measured against, with the account filters' columns: the random
-- baseline of the Contact plan page is the mean expected collection of those in the selection.
-- Grain: one row per open account at the plan date (account_id unique).
-- Reads: scores (a registered frame: account_id, expected_collection, one row per open account at the
--   plan date, from analysis.propensity.score), accounts (portfolio, team, strategy).
-- Parameters: none. Units: expected_collection in the account's currency, like balance.
with

scores as (
    select account_id, expected_collection from scores
),

accounts as (
    select account_id, portfolio, team, strategy from accounts
),

final as (
    select
        s.account_id,
        s.expected_collection,
        a.portfolio,
        a.team,
        a.strategy
    from scores as s
    left join accounts as a on s.account_id = a.account_id
)

select * from final
