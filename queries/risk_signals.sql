-- Risk signals: contact patterns regulators look at that are not, by themselves, rule breaches.
-- Grain: one row per signal occurrence (signal, account_id, consumer_id, contact_id, agent_id, ts, detail);
--   agent_id: the placed call's agent, stored so that the signal list needs no join with every contact.
--   unanswered_pair_5min  an unanswered placed call that follows another unanswered placed call
--                         of the same account by at most $unanswered_gap_s seconds (elapsed time)
--   calls_7_in_day        the $day_calls-th placed call of an account on one local date (one row
--                         per account and local date; detail gives the day's total)
--   sunday_call           a placed call on a Sunday, local date of the account's timezone
--   holiday_call          a placed call on a public holiday (US federal plus the account's state),
--                         local date; holidays come from the relation `risk_holidays`
--                         (state_key, holiday_date, holiday_name), state_key '' = federal only
--   consumer_multi_debt   the placed call at which a consumer's placed calls in the trailing
--                         7 days (elapsed, both ends inclusive) first exceed $consumer_max_calls
--                         while spanning at least 2 accounts
-- Parameters: $unanswered_gap_s (seconds), $day_calls (calls), $consumer_max_calls (calls).
-- Placed call: channel = 'call' and direction = 'outbound' (SPEC section 2); any outcome.
-- Unanswered: outcome in no_answer, voicemail, busy, not_connected, dropped.

with

accounts as (
    select account_id, consumer_id, timezone, coalesce(state, '') as state_key
    from accounts
),

contacts as (
    select contact_id, account_id, ts, outcome, agent_id
    from contacts
    where is_placed_call(channel, direction)
),

holidays as (
    select state_key, holiday_date, string_agg(holiday_name, '; ' order by holiday_name) as holiday_names
    from risk_holidays
    group by state_key, holiday_date
),

placed as (
    select
        c.contact_id,
        c.account_id,
        a.consumer_id,
        a.state_key,
        c.ts,
        c.outcome,
        c.agent_id,
        cast(timezone(a.timezone, c.ts) as date) as local_date
    from contacts as c
    inner join accounts as a on a.account_id = c.account_id
),

unanswered as (
    select
        *,
        lag(contact_id) over (partition by account_id order by ts, contact_id) as prev_contact_id,
        lag(ts) over (partition by account_id order by ts, contact_id) as prev_ts
    from placed
    where outcome in ('no_answer', 'voicemail', 'busy', 'not_connected', 'dropped')
),

unanswered_pairs as (
    select
        'unanswered_pair_5min' as signal,
        account_id,
        consumer_id,
        contact_id,
        agent_id,
        ts,
        'unanswered ' || outcome || ' ' || cast(epoch(ts) - epoch(prev_ts) as bigint)
        || ' s after unanswered call ' || prev_contact_id as detail
    from unanswered
    where prev_ts is not null and epoch(ts) - epoch(prev_ts) <= $unanswered_gap_s
),

day_numbered as (
    select
        *,
        row_number() over (partition by account_id, local_date order by ts, contact_id) as call_of_day,
        count(*) over (partition by account_id, local_date) as calls_that_day
    from placed
),

busy_days as (
    select
        'calls_7_in_day' as signal,
        account_id,
        consumer_id,
        contact_id,
        agent_id,
        ts,
        calls_that_day || ' placed calls on local date ' || strftime(local_date, '%Y-%m-%d') as detail
    from day_numbered
    where call_of_day = $day_calls
),

sundays as (
    select
        'sunday_call' as signal,
        account_id,
        consumer_id,
        contact_id,
        agent_id,
        ts,
        'placed call on Sunday ' || strftime(local_date, '%Y-%m-%d') || ' (local)' as detail
    from placed
    where isodow(local_date) = 7
),

holiday_calls as (
    select
        'holiday_call' as signal,
        p.account_id,
        p.consumer_id,
        p.contact_id,
        p.agent_id,
        p.ts,
        'placed call on ' || h.holiday_names || ', ' || strftime(p.local_date, '%Y-%m-%d') || ' (local)' as detail
    from placed as p
    inner join holidays as h on h.state_key = p.state_key and h.holiday_date = p.local_date
),

-- Only a consumer with at least two accounts can have calls spanning two of them: the windows are
-- computed for those consumers' calls alone (the same rows result, at a fraction of the cost).
multi_debt_consumers as (
    select consumer_id
    from accounts
    group by consumer_id
    having count(*) >= 2
),

consumer_windows as (
    select
        *,
        count(*) over w as calls_7d,
        count(distinct account_id) over w as accounts_7d
    from placed
    where consumer_id in (select m.consumer_id from multi_debt_consumers as m)
    window w as (partition by consumer_id order by ts range between interval 7 days preceding and current row)
),

consumer_flags as (
    select
        *,
        calls_7d > $consumer_max_calls and accounts_7d >= 2 as over_limit,
        lag(calls_7d > $consumer_max_calls and accounts_7d >= 2, 1, false)
            over (partition by consumer_id order by ts, contact_id) as was_over_limit
    from consumer_windows
),

consumer_multi_debt as (
    select
        'consumer_multi_debt' as signal,
        account_id,
        consumer_id,
        contact_id,
        agent_id,
        ts,
        calls_7d || ' placed calls to the consumer in 7 days across ' || accounts_7d || ' accounts' as detail
    from consumer_flags
    where over_limit and not was_over_limit
),

final as (
    select * from unanswered_pairs
    union all
    select * from busy_days
    union all
    select * from sundays
    union all
    select * from holiday_calls
    union all
    select * from consumer_multi_debt
)

select * from final
