-- The UTC offset of each time zone of the accounts on each UTC day that has contacts, for
-- queries/breach_contacts.sql: converting each contact with ICU (`timezone(zone, ts)`) is the
-- costly part of the audit, while the offset only changes on a DST day.
-- Grain: one row per (zone, utc_day) (zone: every timezone and phone_timezone of accounts; utc_day:
--   epoch_us(ts) // 86400000000 of every contact from 1970 on). Parameters: none.
-- Reads: accounts, contacts.
-- Units: zone_base = (zone number - 1) * span - first_day, span = last_day - first_day + 1 of the
--   contacts' UTC days, so that day_key = zone_base + utc_day numbers the rows densely from 0 (a
--   join on a small dense integer range is a direct lookup in DuckDB, its cheapest join);
--   offset_us = wall time minus instant in microseconds at the day's first microsecond;
--   offset_fixed: true when the offset at the day's last microsecond is the same (then the wall time
--   of any instant of that day is the instant plus offset_us), false on a day the offset changes.
with

accounts as (
    select
        timezone,
        phone_timezone
    from accounts
),

contacts as (
    select ts
    from contacts
),

zones as (
    select
        zone,
        row_number() over (order by zone) as zone_number
    from (
        select timezone as zone from accounts where timezone is not null
        union
        select phone_timezone as zone from accounts where phone_timezone is not null
    ) as zone_names
),

utc_days as (
    select distinct epoch_us(ts) // 86400000000 as utc_day
    from contacts
    -- from 1970 on only: `//` truncates, which is the floor there (breach_contacts converts an
    -- earlier contact with ICU)
    where epoch_us(ts) >= 0
),

day_span as (
    select
        min(utc_day) as first_day,
        max(utc_day) - min(utc_day) + 1 as span
    from utc_days
),

day_instants as (
    select
        z.zone,
        (z.zone_number - 1) * s.span - s.first_day as zone_base,
        d.utc_day,
        to_timestamp(d.utc_day * 86400) as day_start,
        to_timestamp((d.utc_day + 1) * 86400) - interval 1 microsecond as day_end
    from zones as z
    cross join utc_days as d
    cross join day_span as s
),

final as (
    select
        zone,
        zone_base,
        utc_day,
        zone_base + utc_day as day_key,
        epoch_us(timezone(zone, day_start)) - epoch_us(day_start) as offset_us,
        (
            epoch_us(timezone(zone, day_end)) - epoch_us(day_end)
            = epoch_us(timezone(zone, day_start)) - epoch_us(day_start)
        ) as offset_fixed
    from day_instants
)

select * from final
