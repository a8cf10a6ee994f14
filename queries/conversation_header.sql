-- One row: the conversation $conversation_id with its account, agent, team, channel, start and
-- sentiment roll-up (scores -1..1, trajectories -2..2). Parameters: $conversation_id.
-- Grain: one row (none when conversation $conversation_id does not exist).
with conversations as (
    select conversation_id, account_id, agent_id, channel, started_at from conversations
    where conversation_id = $conversation_id
),

sentiment as (
    select * from conversation_sentiment where conversation_id = $conversation_id
),

final as (
    select
        c.conversation_id, c.account_id, c.agent_id, g.name as agent_name, a.team, c.channel, c.started_at,
        s.model_id, s.customer_mean, s.customer_first_third, s.customer_last_third, s.customer_trajectory,
        s.agent_mean, s.agent_trajectory, s.label
    from conversations as c
    left join sentiment as s on s.conversation_id = c.conversation_id
    left join accounts as a on a.account_id = c.account_id
    left join agents as g on g.agent_id = c.agent_id
)

select * from final
