-- One row per agent x QA rule over conversations in the filters where the rule applies.
-- Grain: one row per agent x QA rule (agent_id, '(none)' when the conversation has no agent; rule_id).
-- checked: conversations the rule applied to; passed: those that passed; hits: matched phrases.
-- Parameters: $start, $end (UTC dates, inclusive), $portfolios, $teams, $channels, $strategies.
with conversations as (
    select conversation_id, account_id, agent_id, channel, started_at from conversations
),

accounts as (
    select account_id, portfolio, team, strategy from accounts
),

agents as (
    select agent_id, name, team from agents
),

qa_results as (
    select conversation_id, rule_id, kind, passed from qa_results
),

hits as (
    select conversation_id, rule_id, count(*) as hits from qa_hits group by conversation_id, rule_id
),

in_scope as (
    select c.conversation_id, c.agent_id
    from conversations as c
    left join accounts as a on a.account_id = c.account_id
    where utc_day_between(c.started_at, $start, $end)
        and chosen($portfolios, a.portfolio)
        and chosen($teams, a.team)
        and chosen($channels, c.channel)
        and chosen($strategies, a.strategy)
),

final as (
    select
        coalesce(s.agent_id, '(none)') as agent_id,
        any_value(g.name) as agent_name,
        any_value(g.team) as agent_team,
        r.rule_id,
        any_value(r.kind) as kind,
        count(*) as checked,
        count(*) filter (where r.passed) as passed,
        coalesce(sum(h.hits), 0) as hits
    from in_scope as s
    inner join qa_results as r on r.conversation_id = s.conversation_id
    left join hits as h on h.conversation_id = r.conversation_id and h.rule_id = r.rule_id
    left join agents as g on g.agent_id = s.agent_id
    group by coalesce(s.agent_id, '(none)'), r.rule_id
)

select * from final
order by agent_id, rule_id
