-- The contacts of a replayed plan: each planned account's contacts made before the plan's local date,
-- then one contact per plan row at its contact_from (a counted call for calls, `sent` otherwise), the
-- history the firm would have had by following the plan that day.
-- Grain: one row per contact (contact_id unique: planned ids are 'plan-<rank>').
-- Reads: contacts; frames plan_replay_days (account_id, day_start: the instant the plan's local date
--   starts for the account) and plan_replay_rows (rank, account_id, channel, contact_from).
-- Parameters: none.
with

days as (
    select account_id, day_start from plan_replay_days
),

planned as (
    select rank, account_id, channel, contact_from from plan_replay_rows
),

history as (
    select
        c.contact_id,
        c.account_id,
        c.ts,
        c.channel,
        c.direction,
        c.outcome
    from contacts as c
    inner join days as d on c.account_id = d.account_id
    where c.ts < d.day_start
),

final as (
    select contact_id, account_id, ts, channel, direction, outcome from history
    union all
    select
        'plan-' || rank as contact_id,
        account_id,
        contact_from as ts,
        channel,
        'outbound' as direction,
        case when channel = 'call' then 'no_answer' else 'sent' end as outcome
    from planned
)

select * from final
