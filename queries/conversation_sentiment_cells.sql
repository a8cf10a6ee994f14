-- Conversations in the filters counted per group x month x label x score bin: one scan gives the
-- Conversations page's headline, its score histogram, its trend and its breakdown (analysis/sentiment/report.py
-- sums these cells), instead of one query each.
-- Group chosen by $by: 'team' (the account's team, as the sidebar filter), 'agent', 'channel',
-- 'strategy'; null groups read '(none)'. Month: first day of the UTC calendar month of started_at.
-- bin_start: the customer mean's bin, [bin_start, bin_start + 0.1) (the top bin includes 1.0); null when
-- the customer did not speak (not scored).
-- Grain: one row per group_value x month x label x bin_start with a conversation.
-- Returns counts and sums, not rates: conversations, scored (the customer spoke), customer_score_sum
-- (sum of customer means, -1..1 each).
-- Parameters: $by, $start, $end (UTC dates, inclusive), $portfolios, $teams, $channels, $strategies.
with conversation_sentiment as (
    select account_id, agent_id, channel, started_at, customer_mean, label from conversation_sentiment
),

accounts as (
    select account_id, portfolio, team, strategy from accounts
),

in_scope as (
    select
        s.*,
        a.team,
        a.strategy,
        date_trunc('month', utc_timestamp(s.started_at))::date as month
    from conversation_sentiment as s
    left join accounts as a on a.account_id = s.account_id
    where utc_day_between(s.started_at, $start, $end)
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
        least(floor(customer_mean * 10), 9) / 10.0 as bin_start,
        customer_mean
    from in_scope
),

final as (
    select
        group_value,
        month,
        label,
        bin_start,
        count(*) as conversations,
        count(customer_mean) as scored,
        sum(customer_mean) as customer_score_sum
    from grouped
    group by group_value, month, label, bin_start
)

select * from final
order by group_value, month, label, bin_start
