-- One row per survey response with a comment: the comment's sentiment score (-1..1) and label.
-- Grain: one row per survey response with a comment scored under $model_id (response_id unique).
-- Parameters: $model_id.
with surveys as (
    select response_id, comment from surveys where comment is not null
),

cache as (
    select text_hash, score, label from sentiment_cache where model_id = $model_id
),

final as (
    select s.response_id, c.score, c.label, $model_id as model_id
    from surveys as s
    inner join cache as c on c.text_hash = md5(s.comment)
)

select * from final
