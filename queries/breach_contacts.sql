-- Contacts prepared for the rule queries: one row per contact of a known account, with its wall
-- time in the account's timezone and in its phone_timezone (when given).
-- Grain: one row per contact (contact_id unique). Parameters: none. account_key: an integer per
--   account, valid within this table only.
-- Reads: temp table breach_zone_days (queries/breach_zone_days.sql), accounts, contacts.
-- Units: ts an instant (TIMESTAMPTZ); local_ts / phone_local_ts naive wall times (ICU time zones,
--   `timezone(zone, ts)`); local_date the date of local_ts; day_number = local_date - 1970-01-01
--   in days (for RANGE frames).
-- Speed: a wall time is ts plus its zone's offset of that UTC day from breach_zone_days, the same
--   as `timezone(zone, ts)`; only on a day the offset changes (DST), or before 1970, is ICU called
--   per contact.
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
        outcome,
        -- the UTC day (as in breach_zone_days: from 1970 on, null before)
        case when epoch_us(ts) >= 0 then epoch_us(ts) // 86400000000 end as utc_day
    from contacts
),

zone_days as (
    select
        zone,
        utc_day,
        offset_us,
        offset_fixed
    from breach_zone_days
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
        case
            when z.offset_fixed then make_timestamp(epoch_us(c.ts) + z.offset_us)
            else timezone(a.timezone, c.ts)
        end as local_ts,
        case
            when a.phone_timezone is null or a.phone_timezone = a.timezone then null
            when p.offset_fixed then make_timestamp(epoch_us(c.ts) + p.offset_us)
            else timezone(a.phone_timezone, c.ts)
        end as other_phone_local_ts
    from contacts as c
    inner join accounts as a on c.account_id = a.account_id
    left join zone_days as z on a.timezone = z.zone and c.utc_day = z.utc_day
    left join zone_days as p on a.phone_timezone = p.zone and c.utc_day = p.utc_day
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
            else other_phone_local_ts
        end as phone_local_ts,
        cast(local_ts as date) as local_date,
        cast(local_ts as date) - date '1970-01-01' as day_number
    from localised
)

select * from final
