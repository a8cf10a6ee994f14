-- Accounts prepared for the rule queries: one row per account, with an integer key and its time
-- zones as integer keys, so that every join of the audit after the first goes by integers (a join
-- on the text account_id costs about twenty times as much here).
-- Grain: one row per account (account_id unique). Parameters: none.
-- Reads: accounts.
-- Units: account_key an integer 1..N and zone_key / phone_zone_key integers 1..Z, valid within this
--   audit only; phone_zone_kind 0 = no phone_timezone, 1 = the same as timezone, 2 = another zone
--   (phone_zone_key is set only then); state_code trimmed and upper-cased.
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
    select
        zone,
        cast(row_number() over (order by zone) as integer) as zone_key
    from (
        select timezone as zone from accounts where timezone is not null
        union
        select phone_timezone from accounts where phone_timezone is not null
    )
),

final as (
    select
        cast(row_number() over () as integer) as account_key,
        a.account_id,
        a.timezone,
        a.phone_timezone,
        z.zone_key,
        case
            when a.phone_timezone is null then 0
            when a.phone_timezone = a.timezone then 1
            else 2
        end as phone_zone_kind,
        case when a.phone_timezone <> a.timezone then p.zone_key end as phone_zone_key,
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
