-- One row per distinct text (turn text or survey comment) that has no cached score for the model.
-- Grain: one row per distinct text not yet scored under $model_id (text_hash unique).
-- Parameters: $model_id (model name and version, e.g. vader-3.3.2). text_hash is md5 of the text,
-- the cache key together with model_id.
with texts as (
    select text from turns
    union
    select comment as text from surveys where comment is not null
),

hashed as (
    select distinct md5(text) as text_hash, text from texts
),

final as (
    select h.text_hash, h.text
    from hashed as h
    anti join sentiment_cache as c on c.text_hash = h.text_hash and c.model_id = $model_id
)

select * from final
