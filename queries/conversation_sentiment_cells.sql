-- Conversations in the filters counted two ways in one scan: per group x month x label (cell 'group':
-- the Conversations page's headline, trend and breakdown) and per label x score bin over the whole
-- selection (cell 'bin': its histogram); analysis/sentiment/report.py sums these cells, instead of one
-- query each. (Not group x month x label x bin: per agent at 1M accounts that is ~750k rows to cache.)
-- Group chosen by $by: 'team' (the account's team, as the sidebar filter), 'agent', 'channel',
-- 'strategy'; null groups read '(none)'. Month: first day of the UTC calendar month of started_at.
-- bin_start: the customer mean's bin, [bin_start, bin_start + 0.1) (the top bin includes 1.0); null when
-- the customer did not speak (not scored).
-- Grain: cell 'group': one row per group_value x month x label with a conversation (bin_start null);
-- cell 'bin': one row per label x bin_start with a conversation (group_value and month null).
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
        case when grouping(group_value) = 0 then 'group' else 'bin' end as cell,
        group_value,
        month,
        label,
        bin_start,
        count(*) as conversations,
        count(customer_mean) as scored,
        sum(customer_mean) as customer_score_sum
    from grouped
    group by grouping sets ((group_value, month, label), (label, bin_start))
)

select * from final
order by cell, group_value, month, label, bin_start
