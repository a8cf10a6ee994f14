-- Contacts prepared for the rule queries: one row per contact of a known account, with its wall
-- time in the account's timezone and in its phone_timezone (when given).
-- Grain: one row per contact (contact_id unique). Parameters: none. account_key: an integer per
--   account, valid within this table only.
-- Units: ts an instant (TIMESTAMPTZ); local_ts / phone_local_ts naive wall times (ICU time zones,
--   `timezone(zone, ts)`); local_date the date of local_ts; day_number = local_date - 1970-01-01
--   in days (for RANGE frames).
with

accounts as (
    select
        account_id,
        timezone,
        phone_timezone,
        -- an integer key for partitions and joins in the rule queries (cheaper than the text id)
        cast(row_number() over () as integer) as account_key
    from accounts
),

contacts as (
    select
        contact_id,
        account_id,
        ts,
        channel,
        direction,
        outcome
    from contacts
),

localised as (
    select
        c.contact_id,
        c.account_id,
        a.account_key,
        c.ts,
        c.channel,
        c.direction,
        c.outcome,
        a.timezone,
        a.phone_timezone,
        timezone(a.timezone, c.ts) as local_ts
    from contacts as c
    inner join accounts as a on c.account_id = a.account_id
),

final as (
    select
        contact_id,
        account_id,
        account_key,
        ts,
        channel,
        direction,
        outcome,
        local_ts,
        case
            when phone_timezone is null then null
            when phone_timezone = timezone then local_ts
            else timezone(phone_timezone, ts)
        end as phone_local_ts,
        cast(local_ts as date) as local_date,
        cast(local_ts as date) - date '1970-01-01' as day_number
    from localised
)

select * from final
