-- Survey response counts for NPS and CSAT: one row per segment x month.
-- Grain: one row per segment x month (segment: value of $dimension; month: first day, in $tz) with a response.
-- Month: calendar month of responded_at in the reporting zone $tz (IANA name, default UTC).
-- Parameters: $tz; $dimension, one of all, team, agent, survey_channel, strategy, portfolio
--   (team: the answering agent's team, else the account's team; survey_channel: surveys.channel);
--   shared filters $start, $end (dates in $tz, inclusive), $portfolios, $teams, $strategies
--   (of the account) and $channels (the survey channel).
-- Units: counts of responses. promoters nps 9-10, passives 7-8, detractors 0-6 (nps_responses is
--   their sum); csat_satisfied csat 4-5 out of csat_responses. Rates are computed in Python.
with surveys as (
    select * from surveys
),

accounts as (
    select account_id, team, portfolio, strategy from accounts
),

agents as (
    select agent_id, team from agents
),

responses as (
    select
        s.response_id,
        s.nps,
        s.csat,
        s.channel as survey_channel,
        s.agent_id,
        coalesce(g.team, a.team) as team,
        a.portfolio,
        a.strategy,
        cast(timezone($tz, s.responded_at) as date) as local_date,
        cast(date_trunc('month', timezone($tz, s.responded_at)) as date) as month
    from surveys as s
    left join accounts as a on a.account_id = s.account_id
    left join agents as g on g.agent_id = s.agent_id
),

filtered as (
    select *
    from responses
    where local_date between $start and $end
        and (len($portfolios) = 0 or list_contains($portfolios, portfolio))
        and (len($teams) = 0 or list_contains($teams, team))
        and (len($strategies) = 0 or list_contains($strategies, strategy))
        and (len($channels) = 0 or list_contains($channels, survey_channel))
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
        count(*) filter (where nps >= 9) as promoters,
        count(*) filter (where nps between 7 and 8) as passives,
        count(*) filter (where nps <= 6) as detractors,
        count(nps) as nps_responses,
        count(*) filter (where csat >= 4) as csat_satisfied,
        count(csat) as csat_responses
    from segmented
    group by segment, month
)

select * from final
order by segment, month
