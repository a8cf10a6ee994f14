-- One row per turn of every conversation (a conversation without turns gives one row with null turn),
-- ordered by conversation then turn, for the QA phrase rules and vulnerability cues.
-- is_first_conversation: the account's earliest conversation by started_at, then conversation_id
-- (SPEC section 2 contact order applied to conversations). No parameters.
with conversations as (
    select conversation_id, account_id, started_at from conversations
),

turns as (
    select conversation_id, turn, speaker, text from turns
),

ranked as (
    select
        conversation_id,
        account_id,
        row_number() over (partition by account_id order by started_at, conversation_id) = 1 as is_first_conversation
    from conversations
),

final as (
    select r.conversation_id, r.account_id, r.is_first_conversation, t.turn, t.speaker, t.text
    from ranked as r
    left join turns as t on t.conversation_id = r.conversation_id
)

select * from final
order by conversation_id, turn
