-- Accounts the contact plan routes to a specialist queue instead of the dialer list, with the reasons:
-- flagged vulnerable, a vulnerability cue in the customer's words in a conversation before the date, or
-- a complaint open at the start of the date.
-- Grain: one row per account with a reason (account_id unique).
-- Reads: accounts, vulnerability_flags, conversations, complaints.
-- Parameters: $date (date): the plan's date; known = before its start (00:00 UTC), as for propensity.
-- Columns: vulnerable (the account's flag); cues (distinct cue drivers found); open_complaints (count).
with

accounts as (
    select account_id, vulnerable from accounts
),

flags as (
    select conversation_id, account_id, driver from vulnerability_flags
),

conversations as (
    select conversation_id, started_at from conversations
),

complaints as (
    select account_id, received_at, resolved_at from complaints
),

cues as (
    select
        f.account_id,
        string_agg(distinct f.driver, ', ' order by f.driver) as cues
    from flags as f
    inner join conversations as c on f.conversation_id = c.conversation_id
    where c.started_at < timezone('UTC', cast(cast($date as date) as timestamp))
    group by f.account_id
),

open_complaints as (
    select
        account_id,
        count(*) as open_complaints
    from complaints
    where account_id is not null
        and received_at < timezone('UTC', cast(cast($date as date) as timestamp))
        and (resolved_at is null or resolved_at >= timezone('UTC', cast(cast($date as date) as timestamp)))
    group by account_id
),

final as (
    select
        a.account_id,
        coalesce(a.vulnerable, false) as vulnerable,
        c.cues,
        coalesce(o.open_complaints, 0) as open_complaints
    from accounts as a
    left join cues as c on a.account_id = c.account_id
    left join open_complaints as o on a.account_id = o.account_id
    where coalesce(a.vulnerable, false) or c.account_id is not null or o.account_id is not null
)

select * from final
