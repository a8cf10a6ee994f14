-- The survey comments the theme drivers search: each response's lower-cased comment and NPS band.
-- Grain: one row per survey response with an NPS and a non-empty comment, responded in $start..$end.
-- Made once per view as a temporary table (`theme_comments`, analysis.experience.theme_mentions) that
-- nps_theme_mentions.sql then searches once per theme: the filters and joins are paid once, not per theme.
-- Parameters: $tz, and the shared filters as in nps_csat_counts.sql ($start, $end in $tz;
--   account portfolio/team/strategy; $channels on the survey channel).
-- Units: comment is the text lower-cased; band is nps_band(nps) (promoter, passive, detractor).
with responses as (
    select * from survey_facts($tz)
),

final as (
    select
        response_id,
        lower(comment) as comment,
        nps_band as band
    from responses
    where
        nps is not null
        and nullif(trim(comment), '') is not null
        and local_date between $start and $end
        and chosen($portfolios, portfolio)
        and chosen($teams, team)
        and chosen($strategies, strategy)
        and chosen($channels, survey_channel)
)

select * from final
