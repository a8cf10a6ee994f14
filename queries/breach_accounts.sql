-- Accounts prepared for the rule queries: one row per account, with an integer key, so that every
-- join of the audit after the first goes by integers (a join on the text account_id costs about
-- twenty times as much here, on a dense integer key DuckDB looks rows up directly).
-- Grain: one row per account (account_id unique). Parameters: none.
-- Reads: temp table breach_zone_days (queries/breach_zone_days.sql: the zones' bases), accounts.
-- Units: account_key an integer 1..N, valid within this audit only; zone_base / phone_zone_base
--   the zone's base in breach_zone_days (day_key = base + UTC day; null when the zone has no row
--   there); phone_zone_kind 0 = no phone_timezone, 1 = the same as timezone, 2 = another zone
--   (phone_zone_base is set only then); state_code trimmed and upper-cased.
with

accounts as (
    select
        account_id,
        timezone,
        phone_timezone,
        vulnerable,
        state,
        portfolio,
        product,
        team,
        strategy
    from accounts
),

zones as (
    select distinct
        zone,
        zone_base
    from breach_zone_days
),

final as (
    select
        cast(row_number() over () as integer) as account_key,
        a.account_id,
        a.timezone,
        a.phone_timezone,
        z.zone_base,
        case
            when a.phone_timezone is null then 0
            when a.phone_timezone = a.timezone then 1
            else 2
        end as phone_zone_kind,
        case when a.phone_timezone <> a.timezone then p.zone_base end as phone_zone_base,
        a.vulnerable,
        upper(trim(a.state)) as state_code,
        a.portfolio,
        a.product,
        a.team,
        a.strategy
    from accounts as a
    left join zones as z on a.timezone = z.zone
    left join zones as p on a.phone_timezone = p.zone
)

select * from final
