-- The plan's accounts' contacts that a rule's window can reach on the plan's date: from $days_back
-- days before it to two days after it (UTC), which covers every local date in the windows whatever the
-- zone.
-- Grain: one row per contact (contact_id unique).
-- Reads: temp table plan_accounts (queries/plan_accounts.sql), contacts.
-- Parameters: $date (date): the plan's date; $days_back (int): the longest rule window plus two days.
-- Units: account_key as in plan_accounts; ts an instant; day_number = its local date in the account's timezone - 1970-01-01.
with

accounts as (
    select account_key, account_id, timezone from plan_accounts
),

contacts as (
    select contact_id, account_id, ts, channel, direction, outcome
    from contacts
    where ts >= timezone('UTC', cast(cast($date as date) - cast($days_back as integer) as timestamp))
        and ts < timezone('UTC', cast(cast($date as date) + 2 as timestamp))
),

final as (
    select
        c.contact_id,
        a.account_key,
        c.ts,
        c.channel,
        c.direction,
        c.outcome,
        cast(local_date(c.ts, a.timezone) - date '1970-01-01' as integer) as day_number
    from contacts as c
    inner join accounts as a on c.account_id = a.account_id
)

select * from final
