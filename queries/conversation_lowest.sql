-- One row per conversation in the filters with a customer score, lowest customer mean first, at most $limit.
-- Grain: one row per conversation (conversation_id unique) with a customer score, at most $limit.
-- Scores -1..1; trajectory -2..2 (last third minus first third of the customer's turns).
-- qa_failed: rules failed; cues: vulnerability cues found in the customer's words (counted for the
-- chosen conversations only, after the limit).
-- Parameters: $limit, $start, $end (UTC dates, inclusive), $portfolios, $teams, $channels, $strategies.
with conversation_sentiment as (
    select * from conversation_sentiment
),

accounts as (
    select account_id, portfolio, team, strategy from accounts
),

lowest as (
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
        s.label
    from conversation_sentiment as s
    left join accounts as a on a.account_id = s.account_id
    where s.customer_mean is not null
        and utc_day_between(s.started_at, $start, $end)
        and chosen($portfolios, a.portfolio)
        and chosen($teams, a.team)
        and chosen($channels, s.channel)
        and chosen($strategies, a.strategy)
    order by s.customer_mean, s.conversation_id
    limit $limit
),

qa_failed as (
    select r.conversation_id, count(*) as qa_failed
    from qa_results as r
    semi join lowest as l on l.conversation_id = r.conversation_id
    where not r.passed
    group by r.conversation_id
),

cues as (
    select v.conversation_id, count(*) as cues
    from vulnerability_flags as v
    semi join lowest as l on l.conversation_id = v.conversation_id
    group by v.conversation_id
),

final as (
    select
        l.*,
        coalesce(q.qa_failed, 0) as qa_failed,
        coalesce(v.cues, 0) as cues
    from lowest as l
    left join qa_failed as q on q.conversation_id = l.conversation_id
    left join cues as v on v.conversation_id = l.conversation_id
)

select * from final
order by customer_mean, conversation_id
