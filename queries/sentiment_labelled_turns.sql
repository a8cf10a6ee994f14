-- One row per labelled turn: people's latest sentiment labels (the frame human_labels that
-- analysis.sentiment.labels registers: label_id, conversation_id, turn, text_md5, label) with the
-- turn's speaker and text, whether the text is the one labelled (same_text: its MD5 equals text_md5,
-- or the label kept none), and the stored model's label and model id, empty where the turn is not in
-- this database or not scored. What sentiment-train --db trains on, and the page's agreement.
-- Grain: one row per (conversation_id, turn) of human_labels, in label_id order.
with human as (
    select label_id, conversation_id, turn, text_md5, label from human_labels
),

turns as (
    select conversation_id, turn, speaker, text from turns
),

scores as (
    select conversation_id, turn, model_id, label from turn_sentiment
),

final as (
    select
        h.label_id, h.conversation_id, h.turn, h.label, t.speaker, t.text,
        coalesce(h.text_md5 = md5(t.text), h.text_md5 is null) as same_text,
        s.label as stored_label, s.model_id as stored_model_id
    from human as h
    left join turns as t on t.conversation_id = h.conversation_id and t.turn = h.turn
    left join scores as s on s.conversation_id = h.conversation_id and s.turn = h.turn
)

select * from final
order by label_id
