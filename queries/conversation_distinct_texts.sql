-- One row per distinct (speaker, text) among all turns, with text_hash = md5(text). No parameters.
-- Grain: one row per distinct (speaker, text).
with turns as (
    select speaker, text from turns
),

final as (
    select distinct speaker, md5(text) as text_hash, text from turns
)

select * from final
