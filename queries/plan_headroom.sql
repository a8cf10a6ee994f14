-- Each account's contact headroom on the plan's date, per channel: the part of its local date in which
-- one more outbound contact on the channel breaches no active rule (the intersection of every rule's
-- bound with the date), and what is left of each cap.
-- Grain: one row per (account in plan_accounts, channel in $channels).
-- Reads: temp tables plan_accounts (queries/plan_accounts.sql) and plan_bounds (the rules' bounds:
--   account_key, channel, rule_id, lo, hi, left_at_start, cooldown_ends; queries/plan_bound_*.sql).
-- Parameters: $channels (varchar list).
-- Columns: contact_from / contact_until (whole seconds, both allowed; offered when from <= until);
--   calls_left: the smallest cap headroom at the start of the date; caps: each cap rule's headroom;
--   cooldown_ends: when the latest cooldown ends; from_rule / until_rule: the rules that set the window's
--   start and end (null: the date's own); blocked_by: the rules that leave no window (when not offered).
with

accounts as (
    select account_key, account_id, timezone, day_start, day_last from plan_accounts
),

channels as (
    select unnest($channels::varchar[]) as channel
),

bounds as (
    select account_key, channel, rule_id, lo, hi, left_at_start, cooldown_ends from plan_bounds
),

combined as (
    select
        account_key,
        channel,
        max(lo) as lo,
        arg_max(rule_id, lo) as from_rule,
        min(hi) as hi,
        arg_min(rule_id, hi) as until_rule,
        min(left_at_start) as calls_left,
        max(cooldown_ends) as cooldown_ends
    from bounds
    group by account_key, channel
),

-- (a sorted list, not an ordered string_agg: a seventh of the cost)
caps as (
    select
        account_key,
        channel,
        array_to_string(list_sort(list(rule_id || ' ' || left_at_start)), '; ') as caps
    from bounds
    where left_at_start is not null
    group by account_key, channel
),

windows as (
    select
        a.account_key,
        a.account_id,
        c.channel,
        a.timezone,
        greatest(a.day_start, coalesce(b.lo, a.day_start)) as contact_from,
        least(a.day_last, coalesce(b.hi, a.day_last)) as contact_until,
        case when b.lo > a.day_start then b.from_rule end as from_rule,
        case when b.hi < a.day_last then b.until_rule end as until_rule,
        b.calls_left,
        k.caps,
        b.cooldown_ends
    from accounts as a
    cross join channels as c
    left join combined as b on a.account_key = b.account_key and c.channel = b.channel
    left join caps as k on a.account_key = k.account_key and c.channel = k.channel
),

-- A window is empty because of the rules that end it before it starts, or whose own span is empty.
empty_windows as (
    select account_key, channel, contact_from, contact_until
    from windows
    where contact_from > contact_until
),

blocking as (
    select
        w.account_key,
        w.channel,
        string_agg(distinct b.rule_id, ', ' order by b.rule_id) as blocked_by
    from empty_windows as w
    inner join bounds as b on w.account_key = b.account_key and w.channel = b.channel
    where b.hi < w.contact_from or b.lo > b.hi
    group by w.account_key, w.channel
),

final as (
    select
        w.account_id,
        w.channel,
        w.contact_from <= w.contact_until as offered,
        w.contact_from,
        w.contact_until,
        w.timezone,
        w.calls_left,
        w.caps,
        w.cooldown_ends,
        w.from_rule,
        w.until_rule,
        k.blocked_by
    from windows as w
    left join blocking as k on w.account_key = k.account_key and w.channel = k.channel
)

select * from final
