-- One row per QA hit or vulnerability cue in conversation $conversation_id: kind ('qa' or 'cue'),
-- the rule or driver/cue, turn, character span [start_char, end_char) in the turn's text, matched text.
-- Grain: one row per QA hit or cue match of conversation $conversation_id (marker, name, turn, start_char).
-- Parameters: $conversation_id.
with hits as (
    select 'qa' as marker, rule_id as name, kind as detail, turn, start_char, end_char, matched_text
    from qa_hits where conversation_id = $conversation_id
),

cues as (
    select 'cue' as marker, cue as name, driver as detail, turn, start_char, end_char, matched_text
    from vulnerability_flags where conversation_id = $conversation_id
),

final as (
    select * from hits
    union all
    select * from cues
)

select * from final
order by turn, start_char
