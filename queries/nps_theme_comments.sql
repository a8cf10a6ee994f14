-- The survey comments the theme drivers search: each response's lower-cased comment and NPS band.
-- Grain: one row per survey response with an NPS and a non-empty comment, responded in $start..$end.
-- Made once per view as a temporary table (`theme_comments`, analysis.experience.theme_drivers) that
-- nps_theme_mentions.sql then searches once per theme: the filters and joins are paid once, not per theme.
-- Parameters: $tz, and the shared filters as in nps_csat_counts.sql ($start, $end in $tz;
--   account portfolio/team/strategy; $channels on the survey channel).
-- Units: comment is the text lower-cased; band is nps_band(nps) (promoter, passive, detractor).
with surveys as (
    select * from surveys
),

accounts as (
    select account_id, team, portfolio, strategy from accounts
),

agents as (
    select agent_id, team from agents
),

final as (
    select
        s.response_id,
        lower(s.comment) as comment,
        nps_band(s.nps) as band
    from surveys as s
    left join accounts as a on s.account_id = a.account_id
    left join agents as g on s.agent_id = g.agent_id
    where
        s.nps is not null
        and nullif(trim(s.comment), '') is not null
        and cast(timezone($tz, s.responded_at) as date) between $start and $end
        and chosen($portfolios, a.portfolio)
        and chosen($teams, coalesce(g.team, a.team))
        and chosen($strategies, a.strategy)
        and chosen($channels, s.channel)
)

select * from final
