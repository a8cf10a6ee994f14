-- One row per turn of one conversation ($conversation_id), in order, with its sentiment score (-1..1)
-- and label when scored. Parameters: $conversation_id.
-- Grain: one row per turn of conversation $conversation_id (turn unique).
with turns as (
    select conversation_id, turn, speaker, text from turns where conversation_id = $conversation_id
),

scores as (
    select conversation_id, turn, score, label from turn_sentiment where conversation_id = $conversation_id
),

final as (
    select t.turn, t.speaker, t.text, s.score, s.label
    from turns as t
    left join scores as s on s.conversation_id = t.conversation_id and s.turn = t.turn
)

select * from final
order by turn
