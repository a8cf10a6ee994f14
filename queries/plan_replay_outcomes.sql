-- What happened after a plan's date, per account open at it: whether the firm contacted it on that local
-- date (an outbound contact, any channel), and what it paid in the 30 days from the date's start (UTC).
-- Grain: one row per account in the frame plan_replay_accounts (account_id unique).
-- Reads: contacts, payments, accounts; frame plan_replay_accounts (account_id: the open accounts).
-- Parameters: $date (date): the plan's date.
-- Columns: contacted (bool); paid (a payment with amount > 0 in the 30 days); collected (the sum of all
--   payment amounts in them, reversals included).
with

open_accounts as (
    select account_id from plan_replay_accounts
),

accounts as (
    select account_id, timezone from accounts
),

contacts as (
    select account_id, ts, direction
    from contacts
    where ts >= timezone('UTC', cast(cast($date as date) - 1 as timestamp))
        and ts < timezone('UTC', cast(cast($date as date) + 2 as timestamp))
),

payments as (
    select account_id, amount
    from payments
    where paid_at >= timezone('UTC', cast(cast($date as date) as timestamp))
        and paid_at < timezone('UTC', cast(cast($date as date) + 30 as timestamp))
),

contacted as (
    select distinct c.account_id
    from contacts as c
    inner join accounts as a on c.account_id = a.account_id
    where c.direction = 'outbound' and local_date(c.ts, a.timezone) = cast($date as date)
),

paid as (
    select
        account_id,
        bool_or(amount > 0) as paid,
        sum(amount) as collected
    from payments
    group by account_id
),

final as (
    select
        o.account_id,
        c.account_id is not null as contacted,
        coalesce(p.paid, false) as paid,
        coalesce(p.collected, 0) as collected
    from open_accounts as o
    left join contacted as c on o.account_id = c.account_id
    left join paid as p on o.account_id = p.account_id
)

select * from final
