-- Macro: rule_windowed_cap(p_counted, p_noun, p_rules, p_window_days)
-- Breaches of windowed_cap rules that count the same contacts: a counted contact c breaches a
-- rule when the counted contacts of its account with local date in [d(c) - p_window_days + 1, d(c)]
-- that come at or before c in contact order (ts, then contact_id) number more than the rule's cap.
-- Grain: one row per (contact, rule) breach.
-- Reads: temp tables breach_counted (queries/breach_counted.sql: the counted contacts) and
--   breach_accounts (queries/breach_accounts.sql); joins go by its integer account_key.
-- Parameters: p_window_days (int); p_noun ('call'/'contact', for the explanation);
--   p_rules: list of struct(rule_id, cap, vulnerable, states, portfolios, products, teams, strategies),
--   the rules sharing this counting (account filter: vulnerable null = any, empty lists = any, state
--   compared trimmed and upper-cased).
-- Units: ts an instant; local_ts the account's wall time; local dates in the account's timezone.
with

accounts as (
    select
        account_key,
        account_id,
        timezone,
        vulnerable,
        state_code,
        portfolio,
        product,
        team,
        strategy
    from breach_accounts
),

rules as (
    select unnest(
        p_rules::struct(
            rule_id varchar, cap integer, vulnerable boolean, states varchar[], portfolios varchar[],
            products varchar[], teams varchar[], strategies varchar[]
        )[],
        recursive := true
    )
),

-- The rules that apply to each account, with their caps.
account_rules as (
    select
        a.account_key,
        r.rule_id,
        r.cap
    from accounts as a
    inner join rules as r
        on rule_selects(
            r.vulnerable, r.states, r.portfolios, r.products, r.teams, r.strategies,
            a.vulnerable, a.state_code, a.portfolio, a.product, a.team, a.strategy
        )
),

account_min_cap as (
    select
        account_key,
        min(cap) as min_cap
    from account_rules
    group by account_key
),

counted as (
    select
        c.contact_id,
        c.account_key,
        c.ts,
        c.local_ts,
        c.day_number,
        c.account_key::bigint * 4294967296 + (floor(c.day_number / p_window_days)::bigint + 2147483648) as bucket_key,
        m.min_cap
    from query_table(p_counted) as c
    inner join account_min_cap as m on c.account_key = m.account_key
),

-- Pruning: a window [d - p_window_days + 1, d] lies in the p_window_days-day buckets k - 1 and k of d
-- (k = d div p_window_days), so a contact can be over its account's smallest cap only when those two
-- buckets hold more counted contacts than that cap. The contacts of such buckets and of the bucket
-- before them hold every window that can breach (a contact outside them counts at most as many
-- here as in full, so it is never flagged wrongly).
-- bucket_key numbers (account, bucket) pairs as one bigint, account_key * 2^32 + bucket + 2^31
-- (account_key an integer, bucket within integer range as day_number is one), so the same
-- account's next bucket is key + 1; a join or group on one bigint costs less than on two columns.
bucket_counts as (
    select
        bucket_key,
        any_value(min_cap) as min_cap,
        count(*) as n
    from counted
    group by bucket_key
),

hot_buckets as (
    select b.bucket_key
    from bucket_counts as b
    left join bucket_counts as p on p.bucket_key = b.bucket_key - 1
    where b.n + coalesce(p.n, 0) > b.min_cap
),

needed_buckets as (
    select bucket_key from hot_buckets
    union
    select bucket_key - 1 from hot_buckets
),

pruned as (
    select c.* exclude (c.bucket_key)
    from counted as c
    semi join needed_buckets as b on c.bucket_key = b.bucket_key
),

-- Per contact, with one sort of the account's contacts in (local date, ts, contact_id) order: its
-- place in that order (pos); the contacts dated in the window on earlier days plus its place on its
-- own day (n = pos minus the contacts dated before the window); and whether the contact before it in
-- that order has a later instant (local dates going back along time, e.g. a DST change at
-- midnight: an account has such a pair somewhere iff an earlier local date holds a later instant,
-- since equal instants have equal local dates). The RANGE frame orders by a prefix of the same
-- order, so DuckDB computes all three over one sort.
ranked as (
    select
        *,
        row_number() over by_day_ordered as pos,
        pos - count(*) over (
            partition by account_key order by day_number
            range between unbounded preceding and p_window_days preceding
        ) as n,
        lag(ts) over by_day_ordered > ts as goes_back
    from pruned
    window by_day_ordered as (partition by account_key order by day_number, ts, contact_id)
),

-- Accounts whose local dates never go back along contact order: there n is the exact window count
-- and the window is the n contacts up to pos in (local date, ts, contact_id) order, which is
-- contact order. Elsewhere n can only be larger, so the exact window is taken below for the
-- contacts it flags.
irregular_accounts as (
    select distinct account_key
    from ranked
    where goes_back
),

flagged as (
    select *
    from ranked
    where n > min_cap
),

regular_flagged as (
    select f.*
    from flagged as f
    anti join irregular_accounts as i on f.account_key = i.account_key
),

account_lists as (
    select
        p.account_key,
        list(p.contact_id order by p.pos) as ids
    from ranked as p
    semi join regular_flagged as f on p.account_key = f.account_key
    group by p.account_key
),

regular_windows as (
    select
        f.contact_id,
        f.account_key,
        f.ts,
        f.local_ts,
        f.day_number,
        list_slice(l.ids, f.pos - f.n + 1, f.pos) as window_ids
    from regular_flagged as f
    inner join account_lists as l on f.account_key = l.account_key
),

-- The window of each flagged contact of an irregular account, exactly: counted contacts of its
-- account dated in the window that come at or before it in contact order (an equi-join per day).
irregular_window_days as (
    select
        f.contact_id,
        f.account_key,
        f.ts,
        f.local_ts,
        f.day_number,
        f.day_number - unnest(range(p_window_days)) as window_day
    from flagged as f
    semi join irregular_accounts as i on f.account_key = i.account_key
),

irregular_windows as (
    select
        d.contact_id,
        any_value(d.account_key) as account_key,
        any_value(d.ts) as ts,
        any_value(d.local_ts) as local_ts,
        any_value(d.day_number) as day_number,
        -- list_sort orders the structs by ts, then contact_id: contact order.
        list_transform(list_sort(list({'ts': w.ts, 'contact_id': w.contact_id})), lambda x: x.contact_id)
            as window_ids
    from irregular_window_days as d
    inner join pruned as w
        on d.account_key = w.account_key
        and d.window_day = w.day_number
        and (w.ts < d.ts or (w.ts = d.ts and w.contact_id <= d.contact_id))
    group by d.contact_id
),

windows as (
    select * from regular_windows
    union all
    select * from irregular_windows
),

breaching as (
    select
        w.contact_id,
        w.account_key,
        r.rule_id,
        r.cap,
        w.ts,
        w.local_ts,
        date '1970-01-01' + w.day_number as local_date,
        w.window_ids
    from windows as w
    inner join account_rules as r on w.account_key = r.account_key
    where len(w.window_ids) > r.cap
),

final as (
    select
        b.contact_id,
        a.account_id,
        b.rule_id,
        b.ts,
        b.local_ts,
        to_json({'contacts': b.window_ids}) as evidence,
        -- concat, not printf: a tenth of the cost here
        concat(
            'Counted ', p_noun::varchar, ' number ', len(b.window_ids),
            ' in the ', p_window_days::integer, ' local days ',
            strftime(b.local_date - (p_window_days - 1), '%Y-%m-%d'), ' to ', strftime(b.local_date, '%Y-%m-%d'),
            ' (', a.timezone, '), more than the cap of ', b.cap, '.'
        ) as explanation
    from breaching as b
    inner join accounts as a on b.account_key = a.account_key
)

select * from final
