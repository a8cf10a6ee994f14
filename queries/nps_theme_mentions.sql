-- Comment themes by NPS band: one row per theme x band (promoter, passive, detractor).
-- A comment mentions a theme when its lower-cased text matches the theme's regular expression.
-- Parameters: $theme_names, $theme_patterns (two lists of equal length, zipped), $tz, and the
--   shared filters as in nps_csat_counts.sql ($start, $end in $tz; account portfolio/team/strategy;
--   $channels on the survey channel).
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

themes as (
    select
        unnest($theme_names) as theme,
        unnest($theme_patterns) as pattern
),

comments as (
    select
        s.response_id,
        lower(s.comment) as comment,
        case when s.nps >= 9 then 'promoter' when s.nps >= 7 then 'passive' else 'detractor' end as band
    from surveys as s
    left join accounts as a on a.account_id = s.account_id
    left join agents as g on g.agent_id = s.agent_id
    where s.nps is not null
        and nullif(trim(s.comment), '') is not null
        and cast(timezone($tz, s.responded_at) as date) between $start and $end
        and (len($portfolios) = 0 or list_contains($portfolios, a.portfolio))
        and (len($teams) = 0 or list_contains($teams, coalesce(g.team, a.team)))
        and (len($strategies) = 0 or list_contains($strategies, a.strategy))
        and (len($channels) = 0 or list_contains($channels, s.channel))
),

band_totals as (
    select band, count(*) as comments from comments group by band
),

mentions as (
    select t.theme, c.band, count(*) as mentions
    from comments as c
    inner join themes as t on regexp_matches(c.comment, t.pattern)
    group by t.theme, c.band
),

final as (
    select
        t.theme,
        b.band,
        coalesce(m.mentions, 0) as mentions,
        b.comments
    from themes as t
    cross join band_totals as b
    left join mentions as m on m.theme = t.theme and m.band = b.band
)

select * from final
order by theme, band
