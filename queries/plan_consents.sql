-- The plan's accounts' consents given before the end of the contact slice, with their local dates.
-- Grain: one row per consent.
-- Reads: temp table plan_accounts (queries/plan_accounts.sql), consents.
-- Parameters: $date (date): the plan's date.
-- Units: account_key as in plan_accounts; day_number = the local date of given_at in the account's timezone - 1970-01-01.
with

accounts as (
    select account_key, account_id, timezone from plan_accounts
),

consents as (
    select account_id, given_at
    from consents
    where given_at < timezone('UTC', cast(cast($date as date) + 2 as timestamp))
),

final as (
    select
        a.account_key,
        g.given_at,
        cast(local_date(g.given_at, a.timezone) - date '1970-01-01' as integer) as day_number
    from consents as g
    inner join accounts as a on g.account_id = a.account_id
)

select * from final
