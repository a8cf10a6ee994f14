-- One row per QA rule checked on conversation $conversation_id: passed or failed, with the rule's title and source.
-- Grain: one row per QA rule checked on conversation $conversation_id (rule_id unique).
-- Parameters: $conversation_id.
with results as (
    select rule_id, kind, passed from qa_results where conversation_id = $conversation_id
),

rules as (
    select rule_id, title, source from qa_rules
),

final as (
    select r.rule_id, r.kind, r.passed, q.title, q.source
    from results as r
    left join rules as q on q.rule_id = r.rule_id
)

select * from final
order by rule_id
