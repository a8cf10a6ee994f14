-- Macro: survey_facts(tz)
-- Survey facts: every response with its NPS band and CSAT flag (SPEC section 3), its local date
-- and month in the reporting zone, and the segments the pages filter and group by.
-- Grain: one row per survey response.
-- Parameters: tz (IANA zone of the reporting dates).
-- Units: nps 0..10, csat 1..5; team is the answering agent's team, else the account's team;
--   survey_channel is the survey's own channel.
select
    s.response_id,
    s.account_id,
    s.responded_at,
    s.nps,
    s.csat,
    s.comment,
    s.agent_id,
    s.channel as survey_channel,
    coalesce(g.team, a.team) as team,
    a.portfolio,
    a.strategy,
    nps_band(s.nps) as nps_band,
    csat_satisfied(s.csat) as csat_satisfied,
    local_date(s.responded_at, tz) as local_date,
    local_month(s.responded_at, tz) as month
from surveys as s
left join accounts as a on a.account_id = s.account_id
left join agents as g on g.agent_id = s.agent_id
