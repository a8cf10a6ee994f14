-- One row per conversation in the filters with a customer score, lowest customer mean first, at most $limit.
-- Grain: one row per conversation (conversation_id unique) with a customer score, at most $limit.
-- Scores -1..1; trajectory -2..2 (last third minus first third of the customer's turns).
-- qa_failed: rules failed; cues: vulnerability cues found in the customer's words.
-- Parameters: $limit, $start, $end (UTC dates, inclusive), $portfolios, $teams, $channels, $strategies.
with conversation_sentiment as (
    select * from conversation_sentiment
),

accounts as (
    select account_id, portfolio, team, strategy from accounts
),

qa_failed as (
    select conversation_id, count(*) as qa_failed from qa_results where not passed group by conversation_id
),

cues as (
    select conversation_id, count(*) as cues from vulnerability_flags group by conversation_id
),

final as (
    select
        s.conversation_id,
        s.account_id,
        s.agent_id,
        a.team,
        s.channel,
        s.started_at,
        s.customer_mean,
        s.customer_trajectory,
        s.agent_mean,
        s.label,
        coalesce(q.qa_failed, 0) as qa_failed,
        coalesce(v.cues, 0) as cues
    from conversation_sentiment as s
    left join accounts as a on a.account_id = s.account_id
    left join qa_failed as q on q.conversation_id = s.conversation_id
    left join cues as v on v.conversation_id = s.conversation_id
    where s.customer_mean is not null
        and timezone('UTC', s.started_at)::date between $start and $end
        and chosen($portfolios, a.portfolio)
        and chosen($teams, a.team)
        and chosen($channels, s.channel)
        and chosen($strategies, a.strategy)
)

select * from final
order by customer_mean, conversation_id
limit $limit
