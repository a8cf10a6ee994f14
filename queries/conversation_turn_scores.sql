-- One row per turn: its sentiment score (-1..1) and label under the model, from the score cache.
-- Grain: one row per turn scored under $model_id (conversation_id, turn unique).
-- Parameters: $model_id.
with turns as (
    select conversation_id, turn, speaker, text from turns
),

cache as (
    select text_hash, score, label from sentiment_cache where model_id = $model_id
),

final as (
    select t.conversation_id, t.turn, t.speaker, $model_id as model_id, c.score, c.label
    from turns as t
    inner join cache as c on c.text_hash = md5(t.text)
)

select * from final
