-- Mentions of one comment theme by NPS band: one row per band with comments (promoter, passive, detractor).
-- Grain: one row per NPS band with at least one comment (at most three rows).
-- A comment mentions the theme when its lower-cased text matches $pattern (a regular expression).
-- Run once per theme: a scalar pattern is compiled once, while a pattern taken from a joined
-- list would be compiled again for every row (measured: 0.9 s vs 0.03 s per theme on 12k responses).
-- Parameters: $pattern, $tz, and the shared filters as in nps_csat_counts.sql ($start, $end in $tz;
--   account portfolio/team/strategy; $channels on the survey channel).
-- Units: mentions = comments of the band that mention the theme; comments = comments of the band
--   (non-empty text). Shares and lift are computed in Python.
with surveys as (
    select * from surveys
),

accounts as (
    select account_id, team, portfolio, strategy from accounts
),

agents as (
    select agent_id, team from agents
),

comments as (
    select
        s.response_id,
        lower(s.comment) as comment,
        nps_band(s.nps) as band
    from surveys as s
    left join accounts as a on a.account_id = s.account_id
    left join agents as g on g.agent_id = s.agent_id
    where s.nps is not null
        and nullif(trim(s.comment), '') is not null
        and cast(timezone($tz, s.responded_at) as date) between $start and $end
        and chosen($portfolios, a.portfolio)
        and chosen($teams, coalesce(g.team, a.team))
        and chosen($strategies, a.strategy)
        and chosen($channels, s.channel)
),

final as (
    select
        band,
        count(*) filter (where regexp_matches(comment, $pattern)) as mentions,
        count(*) as comments
    from comments
    group by band
)

select * from final
order by band
