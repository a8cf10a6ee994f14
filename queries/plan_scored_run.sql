-- The scoring run the stored propensity scores are from (issue 24): the pipeline's "plan" step stores the
-- contact plan for its date (analysis.plan.build.refresh).
-- Grain: one row (model_id, as_of) when scores are stored; none otherwise. The table holds one run.
-- Reads: propensity_scores. Parameters: none.
with

runs as (
    select distinct s.model_id, s.as_of
    from propensity_scores as s
),

final as (
    select r.model_id, r.as_of
    from runs as r
    order by r.as_of desc, r.model_id asc
    limit 1
)

select * from final
