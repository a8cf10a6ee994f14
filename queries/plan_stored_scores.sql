-- The stored propensity scores of one model at one date (written by `propensity score`), as
-- analysis.propensity.score returns them: the Contact plan page's plan for the scored date reads
-- these instead of scoring every open account again.
-- Grain: one row per account open at $as_of (account_id unique); none when that model did not score that date.
-- Reads: propensity_scores. Parameters: $model_id, $as_of (date). Units: balance and
--   expected_collection (propensity x balance) in the account's currency; propensity 0..1.
with

scores as (
    select model_id, as_of, account_id, propensity, balance, expected_collection
    from propensity_scores
),

final as (
    select account_id, propensity, balance, expected_collection
    from scores
    where model_id = $model_id and as_of = $as_of
    order by account_id
)

select * from final
