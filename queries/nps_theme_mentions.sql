-- Mentions of one comment theme by NPS band: one row per band with comments (promoter, passive, detractor).
-- Grain: one row per NPS band with at least one comment (at most three rows).
-- A comment mentions the theme when its lower-cased text matches $pattern (a regular expression).
-- Run once per theme: a scalar pattern is compiled once, while a pattern taken from a joined
-- list would be compiled again for every row (measured: 0.9 s vs 0.03 s per theme on 12k responses).
-- Reads: theme_comments, the temporary table of nps_theme_comments.sql on the same cursor (the comments
--   in the filters, found once for all themes: analysis.experience.theme_mentions).
-- Parameters: $pattern.
-- Units: mentions = comments of the band that mention the theme; comments = comments of the band
--   (non-empty text). Shares and lift are computed in Python.
with comments as (
    select band, comment from theme_comments
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
