-- The latest stored propensity model's card for the Contact plan page: its id, as-of date, its
-- out-of-time evaluation (JSON), and the date of the stored scores when this model wrote them.
-- Grain: at most one row (the latest model: by created_at, then as_of, then model_id, as
--   analysis.propensity.latest_model picks it); scores_as_of null when the stored scores are another model's.
-- Reads: propensity_models, propensity_scores. Parameters: none. Units: dates are UTC calendar days.
with

models as (
    select model_id, as_of, created_at, evaluation from propensity_models
),

scores as (
    select model_id, max(as_of) as scores_as_of
    from propensity_scores
    group by model_id
),

latest as (
    select model_id, as_of, evaluation
    from models
    order by created_at desc, as_of desc, model_id asc
    limit 1
),

final as (
    select
        l.model_id,
        l.as_of,
        l.evaluation,
        s.scores_as_of
    from latest as l
    left join scores as s on l.model_id = s.model_id
)

select * from final
