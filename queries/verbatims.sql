-- Survey comments: one row per survey response with a non-empty comment, newest first.
-- Grain: one row per survey response with a non-empty comment (response_id unique), at most $limit.
-- Parameters: $tz, $band ('' = all, else promoter / passive / detractor / no_nps), $limit (rows),
--   and the shared filters as in nps_csat_counts.sql (team: the answering agent's, else the account's;
--   dates: the response's local date in $tz; channels: the survey's channel).
-- Units: nps 0-10, csat 1-5; responded_at is an instant (UTC).
with responses as (
    select * from survey_facts($tz)
),

commented as (
    select
        response_id,
        responded_at,
        account_id,
        nps,
        csat,
        coalesce(nps_band, 'no_nps') as band,
        survey_channel,
        agent_id,
        team,
        comment
    from responses
    where
        nullif(trim(comment), '') is not null
        and local_date between $start and $end
        and chosen($portfolios, portfolio)
        and chosen($teams, team)
        and chosen($strategies, strategy)
        and chosen($channels, survey_channel)
),

final as (
    select * from commented
    where $band = '' or band = $band
)

select * from final
order by responded_at desc, response_id asc
limit $limit
