-- Survey comments with their sentiment: one row per survey response with a non-empty comment, newest first.
-- Grain: one row per survey response with a non-empty comment (response_id unique), at most $limit.
-- Needs the derived table comment_sentiment(response_id, score, label) (conversations pipeline step).
-- Parameters: $tz, $band ('' = all, else promoter / passive / detractor / no_nps), $limit (rows),
--   and the shared filters as in verbatims.sql.
-- Units: nps 0-10, csat 1-5; sentiment_score -1..1, sentiment_label negative/neutral/positive; responded_at is an instant (UTC).
with responses as (
    select * from survey_facts($tz)
),

comment_sentiment as (
    select response_id, score, label from comment_sentiment
),

commented as (
    select
        r.response_id,
        r.responded_at,
        r.account_id,
        r.nps,
        r.csat,
        coalesce(r.nps_band, 'no_nps') as band,
        r.survey_channel,
        r.agent_id,
        r.team,
        r.comment,
        cs.score as sentiment_score,
        cs.label as sentiment_label
    from responses as r
    left join comment_sentiment as cs on cs.response_id = r.response_id
    where
        nullif(trim(r.comment), '') is not null
        and r.local_date between $start and $end
        and chosen($portfolios, r.portfolio)
        and chosen($teams, r.team)
        and chosen($strategies, r.strategy)
        and chosen($channels, r.survey_channel)
),

final as (
    select * from commented
    where $band = '' or band = $band
)

select * from final
order by responded_at desc, response_id asc
limit $limit
