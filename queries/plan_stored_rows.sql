-- The stored contact plan (written with every scoring run: analysis.plan.build.store_plan) for one
-- date and model, in the sidebar's account and channel filters and the queues chosen, best first, with
-- make_plan's columns in its order: the Contact plan page's list and dialer file for its default view.
-- Grain: one row per (account, channel) offered on $as_of (rank unique), the first $row_limit by rank;
--   none when that model's plan for that date is not stored.
-- Reads: contact_plan. Parameters: $as_of (date), $model_id, $portfolios, $teams, $strategies,
--   $channels, $queues (lists, empty = all), $row_limit. Units: as make_plan (instants UTC).
with

stored as (
    select * from contact_plan
    where as_of = $as_of and model_id = $model_id
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
    where
        account_chosen($portfolios, $teams, $strategies, portfolio, team, strategy)
        and chosen($channels, channel)
        and chosen($queues, queue)
    order by rank
    limit $row_limit
)

select * from final
