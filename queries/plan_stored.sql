-- The stored contact plan (written with every scoring run: analysis.plan.build.store_plan) for one
-- date and model, with make_plan's columns in its order: the Contact plan page's default view.
-- Grain: one row per (account, channel) offered on $as_of (rank unique, 1..N); none when that model's
--   plan for that date is not stored.
-- Reads: contact_plan. Parameters: $as_of (date), $model_id. Units: as make_plan (instants UTC).
with

stored as (
    select * from contact_plan
),

final as (
    select
        rank,
        account_id,
        channel,
        propensity,
        contact_from,
        contact_until,
        best_local_hour,
        account_rank,
        queue,
        balance,
        expected_collection,
        reach_rate,
        local_date,
        timezone,
        local_window,
        calls_left,
        caps,
        cooldown_ends,
        reasons,
        team,
        portfolio,
        strategy,
        state
    from stored
    where as_of = $as_of and model_id = $model_id
    order by rank
)

select * from final
