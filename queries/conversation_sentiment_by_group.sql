-- One row per group x month (UTC calendar month of started_at) of conversations in the filters.
-- Group chosen by $by: 'team' (the account's team, as the sidebar filter), 'agent', 'channel',
-- 'strategy'; null groups read '(none)'.
-- Grain: one row per group x month (group_value: value of $by; month: first day, UTC) with a conversation.
-- Returns counts and sums, not rates: conversations, scored (the customer spoke),
-- negative/neutral/positive (conversation labels), customer_score_sum (sum of customer means, -1..1 each).
-- Parameters: $by, $start, $end (UTC dates, inclusive), $portfolios, $teams, $channels, $strategies.
with conversation_sentiment as (
    select conversation_id, agent_id, channel, started_at, customer_mean, label from conversation_sentiment
),

accounts as (
    select account_id, portfolio, team, strategy from accounts
),

conversations as (
    select conversation_id, account_id from conversations
),

in_scope as (
    select
        s.*,
        a.team,
        a.strategy,
        date_trunc('month', timezone('UTC', s.started_at))::date as month
    from conversation_sentiment as s
    inner join conversations as c on c.conversation_id = s.conversation_id
    left join accounts as a on a.account_id = c.account_id
    where timezone('UTC', s.started_at)::date between $start and $end
        and chosen($portfolios, a.portfolio)
        and chosen($teams, a.team)
        and chosen($channels, s.channel)
        and chosen($strategies, a.strategy)
),

grouped as (
    select
        coalesce(case $by
            when 'team' then team
            when 'agent' then agent_id
            when 'channel' then channel
            when 'strategy' then strategy
        end, '(none)') as group_value,
        month,
        label,
        customer_mean
    from in_scope
),

final as (
    select
        group_value,
        month,
        count(*) as conversations,
        count(customer_mean) as scored,
        count(*) filter (where label = 'negative') as negative,
        count(*) filter (where label = 'neutral') as neutral,
        count(*) filter (where label = 'positive') as positive,
        sum(customer_mean) as customer_score_sum
    from grouped
    group by group_value, month
)

select * from final
order by group_value, month
