-- One row per QA phrase hit: a rule's pattern matched in a turn the rule looks at (speaker, the
-- speaker's first N turns when first_turns is set, the account's first conversation when
-- applies_to = 'first_conversation'). Character span [start_char, end_char) in the turn's text.
-- Grain: one row per QA phrase hit (conversation_id, rule_id, turn, start_char, end_char).
-- Reads qa_text_matches (matches per distinct speaker and text, written by analysis.qa) and qa_rules.
-- No parameters.
with turns as (
    select
        conversation_id,
        turn,
        speaker,
        md5(text) as text_hash,
        row_number() over (partition by conversation_id, speaker order by turn) as speaker_turn
    from turns
),

conversations as (
    select
        conversation_id,
        row_number() over (partition by account_id order by started_at, conversation_id) = 1 as is_first_conversation
    from conversations
),

matches as (
    select text_hash, speaker, name as rule_id, start_char, end_char, matched_text
    from qa_text_matches where source = 'rule'
),

rules as (
    select rule_id, kind, first_turns, applies_to from qa_rules
),

final as (
    select t.conversation_id, r.rule_id, r.kind, t.turn, m.start_char, m.end_char, m.matched_text
    from turns as t
    inner join matches as m on m.text_hash = t.text_hash and m.speaker = t.speaker
    inner join rules as r on r.rule_id = m.rule_id
    inner join conversations as c on c.conversation_id = t.conversation_id
    where (r.first_turns is null or t.speaker_turn <= r.first_turns)
        and (r.applies_to = 'all' or c.is_first_conversation)
)

select * from final
order by conversation_id, turn, start_char
