-- One row per conversation x QA rule that applies to it (applies_to 'all', or 'first_conversation'
-- for the account's earliest conversation by started_at then conversation_id).
-- Grain: one row per conversation x QA rule that applies to it (conversation_id, rule_id unique).
-- passed: a required rule has at least one hit; a prohibited rule has none. Reads qa_hits, qa_rules.
-- No parameters.
with conversations as (
    select
        conversation_id,
        row_number() over (partition by account_id order by started_at, conversation_id) = 1 as is_first_conversation
    from conversations
),

rules as (
    select rule_id, kind, applies_to from qa_rules
),

hits as (
    select conversation_id, rule_id, count(*) as n_hits from qa_hits group by conversation_id, rule_id
),

final as (
    select
        c.conversation_id,
        r.rule_id,
        r.kind,
        case when r.kind = 'required' then coalesce(h.n_hits, 0) > 0 else coalesce(h.n_hits, 0) = 0 end as passed
    from conversations as c
    cross join rules as r
    left join hits as h on h.conversation_id = c.conversation_id and h.rule_id = r.rule_id
    where r.applies_to = 'all' or c.is_first_conversation
)

select * from final
order by conversation_id, rule_id
