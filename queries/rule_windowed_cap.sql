-- Breaches of windowed_cap rules that count the same contacts: a counted contact c breaches a
-- rule when the counted contacts of its account with local date in [d(c) - $window_days + 1, d(c)]
-- that come at or before c in contact order (ts, then contact_id) number more than the rule's cap.
-- Grain: one row per (contact, rule) breach.
-- Reads: temp table audit_counted (queries/audit_counted.sql: the counted contacts), accounts.
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
    from audit_counted as c
    inner join account_min_cap as m on c.account_id = m.account_id
),

-- A window of $window_days local days overlaps at most two aligned blocks of that many days, so
-- an account whose every two neighbouring blocks hold no more than its smallest cap cannot breach.
blocks as (
    select
        account_id,
        day_number // $window_days as block,
        count(*) as n
    from counted
    group by all
),

busy_accounts as (
    select distinct b.account_id
    from blocks as b
    left join blocks as nb
        on b.account_id = nb.account_id and nb.block = b.block + 1
    inner join account_min_cap as m on b.account_id = m.account_id
    where b.n + coalesce(nb.n, 0) > m.min_cap
),

-- Position in contact order minus the contacts dated before the window. Local dates never go
-- back a week along time, so this is never below the window count, and equals it unless local
-- dates go back (a DST change at midnight can move them back one day); the exact count is taken
-- below for the contacts it flags.
positioned as (
    select
        c.*,
        row_number() over (partition by c.account_id order by c.ts, c.contact_id)
        - count(*) over (
            partition by c.account_id order by c.day_number
            range between unbounded preceding and $window_days preceding
        ) as upper_count
    from counted as c
    semi join busy_accounts as b on c.account_id = b.account_id
),

flagged as (
    select *
    from positioned
    where upper_count > min_cap
),

-- The window of each flagged contact, exactly: counted contacts of its account dated in the
-- window that come at or before it in contact order (an equi-join per window day).
window_days as (
    select
        f.contact_id,
        f.account_id,
        f.ts,
        f.day_number - unnest(range($window_days)) as window_day
    from flagged as f
),

windows as (
    select
        d.contact_id,
        list(w.contact_id order by w.ts, w.contact_id) as window_ids
    from window_days as d
    inner join counted as w
        on d.account_id = w.account_id
        and d.window_day = w.day_number
        and (w.ts < d.ts or (w.ts = d.ts and w.contact_id <= d.contact_id))
    group by d.contact_id
),

breaching as (
    select
        f.contact_id,
        f.account_id,
        r.rule_id,
        r.cap,
        f.ts,
        f.local_ts,
        f.local_date,
        w.window_ids
    from flagged as f
    inner join windows as w on f.contact_id = w.contact_id
    inner join account_rules as r on f.account_id = r.account_id
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
