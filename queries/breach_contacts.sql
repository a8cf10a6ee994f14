-- Contacts prepared for the rule queries: one row per contact of a known account, with its wall
-- time in the account's timezone and in its phone_timezone (when given).
-- Grain: one row per contact (contact_id unique). Parameters: none.
-- Reads: temp tables breach_zone_days (queries/breach_zone_days.sql) and breach_accounts
--   (queries/breach_accounts.sql), contacts.
-- Units: ts an instant (TIMESTAMPTZ); local_ts / phone_local_ts naive wall times (ICU time zones,
--   `timezone(zone, ts)`); day_number = the date of local_ts - 1970-01-01 in days (for RANGE
--   frames; the local date is date '1970-01-01' + day_number); channel and direction ENUMs (they
--   compare with text as text does). account_key as in breach_accounts:
--   the rule queries join by it and take account_id from breach_accounts.
-- Speed: a wall time is ts plus its zone's offset of that UTC day from breach_zone_days, the same
--   as `timezone(zone, ts)`; only on a day the offset changes (DST), or before 1970, is ICU called
--   per contact. The table is kept narrow (no account_id, no text zone): writing it is much of
--   its cost.
with

accounts as (
    select
        account_key,
        account_id,
        timezone,
        phone_timezone,
        zone_base,
        phone_zone_kind,
        phone_zone_base
    from breach_accounts
),

contacts as (
    select
        contact_id,
        account_id,
        ts,
        -- one byte instead of a string (the contract's closed lists, analysis/schema.py CHANNELS and
        -- DIRECTIONS; anything else cannot be imported, and would be null here, in no rule's list):
        -- writing and filtering this table is much of the audit's cost
        try_cast(channel as enum('call', 'sms', 'email', 'letter', 'chat')) as channel,
        try_cast(direction as enum('outbound', 'inbound')) as direction,
        outcome,
        -- the UTC day (as in breach_zone_days: from 1970 on, null before)
        case when epoch_us(ts) >= 0 then epoch_us(ts) // 86400000000 end as utc_day
    from contacts
),

zone_days as (
    select
        day_key,
        offset_us,
        offset_fixed
    from breach_zone_days
),

localised as (
    select
        c.contact_id,
        a.account_key,
        c.ts,
        c.channel,
        c.direction,
        c.outcome,
        a.phone_zone_kind,
        case
            when z.offset_fixed then make_timestamp(epoch_us(c.ts) + z.offset_us)
            else timezone(a.timezone, c.ts)
        end as local_ts,
        case
            when a.phone_zone_kind < 2 then null
            when p.offset_fixed then make_timestamp(epoch_us(c.ts) + p.offset_us)
            else timezone(a.phone_timezone, c.ts)
        end as other_phone_local_ts
    from contacts as c
    inner join accounts as a on c.account_id = a.account_id
    left join zone_days as z on a.zone_base + c.utc_day = z.day_key
    left join zone_days as p on a.phone_zone_base + c.utc_day = p.day_key
),

final as (
    select
        contact_id,
        account_key,
        ts,
        channel,
        direction,
        outcome,
        local_ts,
        case phone_zone_kind
            when 0 then null
            when 1 then local_ts
            else other_phone_local_ts
        end as phone_local_ts,
        cast(cast(local_ts as date) - date '1970-01-01' as integer) as day_number
    from localised
)

select * from final
