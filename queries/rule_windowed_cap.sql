-- Breaches of windowed_cap rules that count the same contacts: a counted contact c breaches a
-- rule when the counted contacts of its account with local date in [d(c) - $window_days + 1, d(c)]
-- that come at or before c in contact order (ts, then contact_id) number more than the rule's cap.
-- Grain: one row per (contact, rule) breach.
-- Reads: temp table breach_counted (queries/breach_counted.sql: the counted contacts), accounts.
-- Parameters: $window_days (int); $noun ('call'/'contact', for the explanation);
--   $rules: list of struct(rule_id, cap, vulnerable, states, portfolios, products, teams, strategies),
--   the rules sharing this counting (account filter: vulnerable null = any, empty lists = any, state
--   compared trimmed and upper-cased).
-- Units: ts an instant; local_ts the account's wall time; local dates in the account's timezone.
with

accounts as (
    select
        account_id,
        timezone,
        vulnerable,
        upper(trim(state)) as state_code,
        portfolio,
        product,
        team,
        strategy
    from accounts
),

rules as (
    select unnest(
        $rules::struct(
            rule_id varchar, cap integer, vulnerable boolean, states varchar[], portfolios varchar[],
            products varchar[], teams varchar[], strategies varchar[]
        )[],
        recursive := true
    )
),

-- The rules that apply to each account, with their caps.
account_rules as (
    select
        a.account_id,
        r.rule_id,
        r.cap
    from accounts as a
    inner join rules as r
        on (r.vulnerable is null or coalesce(a.vulnerable, false) = r.vulnerable)
        and (len(r.states) = 0 or list_contains(r.states, a.state_code))
        and (len(r.portfolios) = 0 or list_contains(r.portfolios, a.portfolio))
        and (len(r.products) = 0 or list_contains(r.products, a.product))
        and (len(r.teams) = 0 or list_contains(r.teams, a.team))
        and (len(r.strategies) = 0 or list_contains(r.strategies, a.strategy))
),

account_min_cap as (
    select
        account_id,
        min(cap) as min_cap
    from account_rules
    group by account_id
),

counted as (
    select
        c.contact_id,
        c.account_id,
        c.ts,
        c.local_ts,
        c.local_date,
        c.day_number,
        m.min_cap
    from breach_counted as c
    inner join account_min_cap as m on c.account_id = m.account_id
),

-- Counted contacts per account and local day, and how many fall on the $window_days - 1 days before.
day_counts as (
    select
        account_id,
        day_number,
        any_value(min_cap) as min_cap,
        count(*) as n
    from counted
    group by account_id, day_number
),

day_windows as (
    select
        *,
        coalesce(sum(n) over (
            partition by account_id order by day_number
            range between ($window_days - 1) preceding and 1 preceding
        ), 0) as n_before
    from day_counts
),

-- Days on which some contact can be over the smallest cap of its account.
hot_days as (
    select
        account_id,
        day_number,
        n_before
    from day_windows
    where n_before + n > min_cap
),

-- The contacts of earlier days in the window plus the position on its own day in contact order.
-- When local dates only go forward along time this is the window count; where they go back (a DST
-- change at midnight can move them back one day) it can only be larger, so the exact count is
-- taken below for the contacts it flags.
flagged as (
    select *
    from (
        select
            c.*,
            h.n_before + row_number() over (
                partition by c.account_id, c.day_number order by c.ts, c.contact_id
            ) as upper_count
        from counted as c
        inner join hot_days as h on c.account_id = h.account_id and c.day_number = h.day_number
    )
    where upper_count > min_cap
),

-- The window of each flagged contact, exactly: counted contacts of its account dated in the
-- window that come at or before it in contact order (an equi-join per window day).
window_days as (
    select
        f.contact_id,
        f.account_id,
        f.ts,
        f.local_ts,
        f.local_date,
        f.day_number - unnest(range($window_days)) as window_day
    from flagged as f
),

windows as (
    select
        d.contact_id,
        any_value(d.account_id) as account_id,
        any_value(d.ts) as ts,
        any_value(d.local_ts) as local_ts,
        any_value(d.local_date) as local_date,
        -- list_sort orders the structs by ts, then contact_id: contact order (faster than an
        -- ordered aggregate).
        list_transform(list_sort(list({'ts': w.ts, 'contact_id': w.contact_id})), lambda x: x.contact_id)
            as window_ids
    from window_days as d
    inner join counted as w
        on d.account_id = w.account_id
        and d.window_day = w.day_number
        and (w.ts < d.ts or (w.ts = d.ts and w.contact_id <= d.contact_id))
    group by d.contact_id
),

breaching as (
    select
        w.contact_id,
        w.account_id,
        r.rule_id,
        r.cap,
        w.ts,
        w.local_ts,
        w.local_date,
        w.window_ids
    from windows as w
    inner join account_rules as r on w.account_id = r.account_id
    where len(w.window_ids) > r.cap
),

final as (
    select
        b.contact_id,
        b.account_id,
        b.rule_id,
        b.ts,
        b.local_ts,
        to_json({'contacts': b.window_ids}) as evidence,
        printf(
            'Counted %s number %d in the %d local days %s to %s (%s), more than the cap of %d.',
            $noun, len(b.window_ids), $window_days,
            strftime(b.local_date - ($window_days - 1), '%Y-%m-%d'), strftime(b.local_date, '%Y-%m-%d'),
            a.timezone, b.cap
        ) as explanation
    from breaching as b
    inner join accounts as a on b.account_id = a.account_id
)

select * from final
