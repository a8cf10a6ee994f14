-- One row per conversation: the customer's and the agent's mean turn score (-1..1), the mean of
-- their first third and last third of turns, and the trajectory (last third minus first third, -2..2).
-- Grain: one row per conversation (conversation_id unique), every conversation, scored or not.
-- A speaker with n turns: first third = their first ceil(n/3) turns, last third = their last ceil(n/3).
-- label: from the customer's mean with dead zone [$negative_at, $positive_at] exclusive
-- (empty when the customer never spoke). Reads turn_sentiment. Parameters: $negative_at, $positive_at.
with conversations as (
    select conversation_id, account_id, agent_id, channel, started_at from conversations
),

turn_scores as (
    select conversation_id, turn, speaker, model_id, score from turn_sentiment
),

positioned as (
    select
        conversation_id,
        speaker,
        model_id,
        score,
        row_number() over (partition by conversation_id, speaker order by turn) as position,
        count(*) over (partition by conversation_id, speaker) as n_turns
    from turn_scores
),

by_speaker as (
    select
        conversation_id,
        speaker,
        any_value(model_id) as model_id,
        count(*) as n_turns,
        -- summed in turn order: a sum of doubles depends on the order of its terms, and the rows of
        -- turn_sentiment come in whatever order the build or an incremental refresh left them
        avg(score order by position) as mean_score,
        min(score) as min_score,
        avg(score order by position) filter (where position <= ceil(n_turns / 3.0)) as first_third,
        avg(score order by position) filter (where position > n_turns - ceil(n_turns / 3.0)) as last_third
    from positioned
    group by conversation_id, speaker
),

final as (
    select
        c.conversation_id,
        c.account_id,
        c.agent_id,
        c.channel,
        c.started_at,
        coalesce(cu.model_id, ag.model_id) as model_id,
        coalesce(cu.n_turns, 0) as customer_turns,
        cu.mean_score as customer_mean,
        cu.min_score as customer_min,
        cu.first_third as customer_first_third,
        cu.last_third as customer_last_third,
        cu.last_third - cu.first_third as customer_trajectory,
        coalesce(ag.n_turns, 0) as agent_turns,
        ag.mean_score as agent_mean,
        ag.first_third as agent_first_third,
        ag.last_third as agent_last_third,
        ag.last_third - ag.first_third as agent_trajectory,
        case
            when cu.mean_score is null then null
            when cu.mean_score >= $positive_at then 'positive'
            when cu.mean_score <= $negative_at then 'negative'
            else 'neutral'
        end as label
    from conversations as c
    left join by_speaker as cu on cu.conversation_id = c.conversation_id and cu.speaker = 'customer'
    left join by_speaker as ag on ag.conversation_id = c.conversation_id and ag.speaker = 'agent'
)

select * from final
