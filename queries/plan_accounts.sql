-- Accounts prepared for the contact plan of one date: the local date is the plan's date in each
-- account's own timezone, and the instants it starts and ends at there.
-- Grain: one row per account placed on or before the date (account_id unique).
-- Reads: accounts.
-- Parameters: $date (date): the plan's local date.
-- Units: day_number = the date - 1970-01-01 in days (as breach_contacts'); day_start the instant of the
--   local midnight that starts the date; day_last the last whole second of the date there; state_code
--   trimmed and upper-cased (as rule_selects compares it).
with

accounts as (
    select account_id, timezone, phone_timezone, vulnerable, state, portfolio, product, team, strategy, placed_date
    from accounts
),

final as (
    select
        account_id,
        timezone,
        phone_timezone,
        vulnerable,
        upper(trim(state)) as state_code,
        portfolio,
        product,
        team,
        strategy,
        cast(cast($date as date) - date '1970-01-01' as integer) as day_number,
        timezone(timezone, cast(cast($date as date) as timestamp)) as day_start,
        timezone(timezone, cast(cast($date as date) as timestamp) + interval 1 day) - interval 1 second as day_last
    from accounts
    where placed_date <= cast($date as date)
)

select * from final
