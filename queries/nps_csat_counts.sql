-- Survey response counts for NPS and CSAT: one row per segment x month.
-- Grain: one row per segment x month (segment: value of $dimension; month: first day, in $tz) with a response.
-- Month: calendar month of responded_at in the reporting zone $tz (IANA name, default UTC).
-- Parameters: $tz; $dimension, one of all, team, agent, survey_channel, strategy, portfolio
--   (team: the answering agent's team, else the account's team; survey_channel: surveys.channel);
--   shared filters $start, $end (dates in $tz, inclusive), $portfolios, $teams, $strategies
--   (of the account) and $channels (the survey channel).
-- Units: counts of responses. promoters nps 9-10, passives 7-8, detractors 0-6 (nps_responses is
--   their sum); csat_satisfied csat 4-5 out of csat_responses. Rates are computed in Python.
with responses as (
    select * from survey_facts($tz)
),

filtered as (
    select *
    from responses
    where local_date between $start and $end
        and chosen($portfolios, portfolio)
        and chosen($teams, team)
        and chosen($strategies, strategy)
        and chosen($channels, survey_channel)
),

segmented as (
    select
        *,
        coalesce(case $dimension
            when 'all' then 'All'
            when 'team' then team
            when 'agent' then agent_id
            when 'survey_channel' then survey_channel
            when 'strategy' then strategy
            when 'portfolio' then portfolio
        end, '(none)') as segment
    from filtered
),

final as (
    select
        segment,
        month,
        count(*) filter (where nps_band = 'promoter') as promoters,
        count(*) filter (where nps_band = 'passive') as passives,
        count(*) filter (where nps_band = 'detractor') as detractors,
        count(nps) as nps_responses,
        count(*) filter (where csat_satisfied) as csat_satisfied,
        count(csat) as csat_responses
    from segmented
    group by segment, month
)

select * from final
order by segment, month
