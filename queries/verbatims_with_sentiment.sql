-- Survey comments with their sentiment: one row per survey response with a non-empty comment, newest first.
-- Grain: one row per survey response with a non-empty comment (response_id unique), at most $limit.
-- Needs the derived table comment_sentiment(response_id, score, label) (conversations pipeline step).
-- Parameters: $tz, $band ('' = all, else promoter / passive / detractor / no_nps), $limit (rows),
--   and the shared filters as in nps_csat_counts.sql.
-- Units: nps 0-10, csat 1-5; sentiment_score -1..1, sentiment_label negative/neutral/positive; responded_at is an instant (UTC).
with surveys as (
    select * from surveys
),

accounts as (
    select account_id, team, portfolio, strategy from accounts
),

agents as (
    select agent_id, team from agents
),

comment_sentiment as (
    select response_id, score, label from comment_sentiment
),

responses as (
    select
        s.response_id,
        s.responded_at,
        s.account_id,
        s.nps,
        s.csat,
        coalesce(nps_band(s.nps), 'no_nps') as band,
        s.channel as survey_channel,
        s.agent_id,
        coalesce(g.team, a.team) as team,
        s.comment,
        cs.score as sentiment_score,
        cs.label as sentiment_label
    from surveys as s
    left join accounts as a on a.account_id = s.account_id
    left join agents as g on g.agent_id = s.agent_id
    left join comment_sentiment as cs on cs.response_id = s.response_id
    where nullif(trim(s.comment), '') is not null
        and cast(timezone($tz, s.responded_at) as date) between $start and $end
        and chosen($portfolios, a.portfolio)
        and chosen($teams, coalesce(g.team, a.team))
        and chosen($strategies, a.strategy)
        and chosen($channels, s.channel)
),

final as (
    select * from responses
    where $band = '' or band = $band
)

select * from final
order by responded_at desc, response_id asc
limit $limit
