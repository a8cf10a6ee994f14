-- Accounts prepared for the contact plan of one date: the local date is the plan's date in each
-- account's own timezone, and the instants it starts and ends at there.
-- Grain: one row per account placed on or before the date (account_id unique).
-- Reads: accounts.
-- Parameters: $date (date): the plan's local date.
-- Units: account_key an integer 1..N, valid within one plan (the plan's joins go by it); day_number =
--   the date - 1970-01-01 in days (as breach_contacts'); day_start the instant of the local midnight that starts the date; day_last the last whole second of the date there; state_code
--   trimmed and upper-cased (as rule_selects compares it).
with

accounts as (
    select account_id, timezone, phone_timezone, vulnerable, state, portfolio, product, team, strategy, placed_date
    from accounts
),

zones as (
    select distinct timezone from accounts
),

-- The local date's bounds per zone (a few zones, not an ICU conversion per account).
zone_days as (
    select
        timezone,
        timezone(timezone, cast(cast($date as date) as timestamp)) as day_start,
        timezone(timezone, cast(cast($date as date) as timestamp) + interval 1 day) - interval 1 second as day_last
    from zones
),

final as (
    select
        cast(row_number() over () as integer) as account_key,
        a.account_id,
        a.timezone,
        a.phone_timezone,
        a.vulnerable,
        upper(trim(a.state)) as state_code,
        a.portfolio,
        a.product,
        a.team,
        a.strategy,
        cast(cast($date as date) - date '1970-01-01' as integer) as day_number,
        z.day_start,
        z.day_last
    from accounts as a
    inner join zone_days as z on a.timezone = z.timezone
    where a.placed_date <= cast($date as date)
)

select * from final
