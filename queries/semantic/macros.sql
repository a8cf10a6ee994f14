-- The semantic layer's scalar macros: each business definition written once, read by every query.
-- Grain: not a query; one macro per definition, created as a temporary macro on every cursor
--   (analysis/db.py, `cursor`). Statements end with ";" at the end of a line.
-- Sources: SPEC sections 2 and 3; DECISIONS.md "Customer experience and complaints".

-- The shared sidebar filter: an empty choice list means "all", otherwise the value must be chosen.
create or replace temp macro chosen(choices, value) as (
    len(choices) = 0 or list_contains(choices, value)
);

-- The sidebar's three account filters together (portfolio, team, strategy of the account).
create or replace temp macro account_chosen(portfolios, teams, strategies, portfolio, team, strategy) as (
    chosen(portfolios, portfolio) and chosen(teams, team) and chosen(strategies, strategy)
);

-- The UTC wall-clock time of an instant (a naive timestamp), the same value as timezone('UTC', ts) for a
-- timestamptz but by arithmetic on its microseconds instead of an ICU conversion per row (~10x faster
-- over millions of rows). Its date is the event's UTC calendar date.
create or replace temp macro utc_timestamp(ts) as (
    make_timestamp(epoch_us(ts))
);

-- The sidebar's date filter on an instant: its UTC calendar date is between first_day and last_day
-- (inclusive), written as a range of instants, [first_day 00:00 UTC, the day after last_day 00:00 UTC),
-- which is the same test as `cast(timezone('UTC', ts) as date) between ...` without converting every
-- row (~10x faster over millions of rows, and a sorted column's row groups can be skipped).
create or replace temp macro utc_day_between(ts, first_day, last_day) as (
    ts >= timezone('UTC', cast(first_day as timestamp))
    and ts < timezone('UTC', cast(last_day as timestamp) + interval 1 day)
);

-- The whole UTC calendar months of a date range first_day..last_day (inclusive): those whose first day is
-- on or after first_whole_month(first_day) and before after_whole_months(last_day) (none when the first is
-- not before the second). The rest of the range, its part months, is part_month_day(day, ...) below.
create or replace temp macro first_whole_month(first_day) as (
    cast(date_trunc('month', cast(first_day as date) - 1) + interval 1 month as date)
);

create or replace temp macro after_whole_months(last_day) as (
    cast(date_trunc('month', cast(last_day as date) + 1) as date)
);

create or replace temp macro in_whole_months(month_start, first_day, last_day) as (
    month_start >= first_whole_month(first_day) and month_start < after_whole_months(last_day)
);

-- A UTC day of first_day..last_day outside its whole months: before the first whole month, or from the
-- later of the first whole month and the month after the last one (so nothing counts twice when there
-- is no whole month). Each part is a plain range, so a table ordered by day skips the row groups between.
create or replace temp macro part_month_day(day, first_day, last_day) as (
    day between first_day and least(cast(last_day as date), first_whole_month(first_day) - 1)
    or day between greatest(first_whole_month(first_day), after_whole_months(last_day)) and last_day
);

-- The same test on an instant (its UTC calendar date), as ranges of instants (utc_day_between).
create or replace temp macro utc_part_month_day(ts, first_day, last_day) as (
    utc_day_between(ts, first_day, least(cast(last_day as date), first_whole_month(first_day) - 1))
    or utc_day_between(ts, greatest(first_whole_month(first_day), after_whole_months(last_day)), last_day)
);

-- A contact rule's account selector (`accounts = {...}` in config/rules.toml): sel_vulnerable null
-- means any account, true/false only those (a missing flag is false); each list empty means any.
create or replace temp macro rule_selects(
    sel_vulnerable, sel_states, sel_portfolios, sel_products, sel_teams, sel_strategies,
    vulnerable, state_code, portfolio, product, team, strategy
) as (
    (sel_vulnerable is null or coalesce(vulnerable, false) = sel_vulnerable)
    and chosen(sel_states, state_code)
    and chosen(sel_portfolios, portfolio)
    and chosen(sel_products, product)
    and chosen(sel_teams, team)
    and chosen(sel_strategies, strategy)
);

-- NPS bands (SPEC section 3): promoter 9-10, passive 7-8, detractor 0-6; no band without an nps.
create or replace temp macro nps_band(nps) as (
    case when nps >= 9 then 'promoter' when nps >= 7 then 'passive' when nps >= 0 then 'detractor' end
);

-- CSAT satisfied (SPEC section 3): 4 or 5 out of 5.
create or replace temp macro csat_satisfied(csat) as (
    csat >= 4
);

-- The local calendar date and month (its first day) of an instant in zone tz.
create or replace temp macro local_date(ts, tz) as (
    cast(timezone(tz, ts) as date)
);

create or replace temp macro local_month(ts, tz) as (
    cast(date_trunc('month', timezone(tz, ts)) as date)
);

-- Resolution time in seconds (fractional, microsecond exact): resolved_at - received_at.
create or replace temp macro resolution_seconds(received_at, resolved_at) as (
    (epoch_us(resolved_at) - epoch_us(received_at)) / 1e6
);

-- FCA DISP 1.6 (SPEC section 3): resolved within 8 weeks, i.e. resolution time <= 56 x 86,400 s.
create or replace temp macro within_8_weeks(resolution_s) as (
    resolution_s <= 56 * 86400
);

-- DISP 1.5 summary resolution deadline: the end (midnight, in zone tz) of the 3rd business day
-- (Monday to Friday; public holidays not excluded) after the local day of receipt.
create or replace temp macro summary_deadline(received_at, tz) as (
    timezone(tz, cast(
        local_date(received_at, tz)
        + case isodow(local_date(received_at, tz))
            when 1 then 3 when 2 then 3 when 3 then 5 when 4 then 5 when 5 then 5 when 6 then 4 else 3
        end + 1 as timestamp
    ))
);

-- A placed call (SPEC section 2): an outbound call, any outcome.
create or replace temp macro is_placed_call(channel, direction) as (
    channel = 'call' and direction = 'outbound'
);

-- Right-party contact: a call whose outcome is a conversation with the consumer.
create or replace temp macro is_right_party(channel, outcome) as (
    channel = 'call' and outcome = 'conversation'
);

-- The whole second at or before an instant, and the one at or after it (the plan's contact windows are
-- whole seconds: ISO 8601 without fractions).
create or replace temp macro floor_second(ts) as (
    to_timestamp(epoch_us(ts) // 1000000)
);

create or replace temp macro ceil_second(ts) as (
    to_timestamp((epoch_us(ts) + 999999) // 1000000)
);

-- An account's balance at a date (issue 24): its placed balance less every payment before the date
-- (reversals included); `paid_before` is that sum, null when there is none.
create or replace temp macro balance_at(placed_balance, paid_before) as (
    placed_balance - coalesce(paid_before, 0)
);

-- An open account at date D (issue 24: the accounts the propensity model scores and the plan ranks):
-- placed before D, with a balance left at D.
create or replace temp macro is_open_account(placed_date, placed_balance, paid_before, as_of) as (
    placed_date < as_of and balance_at(placed_balance, paid_before) > 0
);

-- A deterministic sample of accounts (issue 24: the propensity model's training rows on a large book):
-- every account when n <= 1, else those whose id hashes to 0 modulo n (about one in n, the same ones
-- in every query of a DuckDB version).
create or replace temp macro in_sample(account_id, n) as (
    n <= 1 or hash(account_id) % n = 0
);
