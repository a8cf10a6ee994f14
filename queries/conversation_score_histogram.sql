-- One row per score bin x label: conversations in the filters whose customer mean (-1..1) falls in
-- [bin_start, bin_start + 0.1) (the top bin includes 1.0). Parameters: $start, $end (UTC dates,
-- inclusive), $portfolios, $teams, $channels, $strategies.
-- Grain: one row per score bin (bin_start, 0.1 wide) x label, for bins with a conversation.
with conversation_sentiment as (
    select conversation_id, account_id, channel, started_at, customer_mean, label from conversation_sentiment
    where customer_mean is not null
),

accounts as (
    select account_id, portfolio, team, strategy from accounts
),

in_scope as (
    select s.customer_mean, s.label
    from conversation_sentiment as s
    left join accounts as a on a.account_id = s.account_id
    where timezone('UTC', s.started_at)::date between $start and $end
        and chosen($portfolios, a.portfolio)
        and chosen($teams, a.team)
        and chosen($channels, s.channel)
        and chosen($strategies, a.strategy)
),

final as (
    select
        least(floor(customer_mean * 10), 9) / 10.0 as bin_start,
        label,
        count(*) as conversations
    from in_scope
    group by bin_start, label
)

select * from final
order by bin_start, label
