-- Breaches of one windowed_cap rule on Spark (the Spark variant of queries/rule_windowed_cap.sql,
-- same output): a counted contact c breaches when the counted contacts of its account with local date
-- in [d(c) - :window_days + 1, d(c)] that come at or before c in contact order (ts, then contact_id)
-- number more than :cap.
-- Grain: one row per breaching contact (contact_id unique).
-- Reads: temp view breach_contacts (queries/spark/breach_contacts.sql), accounts.
-- Parameters: :rule_id; :cap, :window_days (int); :noun ('call'/'contact', for the explanation);
--   counting: :channels, :directions, :outcomes_excluded (array<string>), :consent_exclusion (boolean),
--   :consent_window_days (int); account filter :vulnerable (boolean, null = any), :states,
--   :portfolios, :products, :teams, :strategies (array<string>, empty = any; state compared trimmed
--   and upper-cased).
-- Units: ts an instant; local_ts the account's wall time; day_number the local date in days.
-- Why a variant: the DuckDB query is a table macro that takes the counted contacts as a table
--   (query_table), a list of rules as a list of structs, and slices lists with DuckDB's list
--   functions; Spark SQL has none of these. This variant runs once per rule (no shared pruning).
with

accounts as (
    select
        account_id,
        timezone
    from accounts
    where (:vulnerable is null or coalesce(vulnerable, false) = :vulnerable)
        and (
            size(cast(:states as array<string>)) = 0
            or array_contains(cast(:states as array<string>), upper(trim(state)))
        )
        and (
            size(cast(:portfolios as array<string>)) = 0
            or array_contains(cast(:portfolios as array<string>), portfolio)
        )
        and (
            size(cast(:products as array<string>)) = 0
            or array_contains(cast(:products as array<string>), product)
        )
        and (
            size(cast(:teams as array<string>)) = 0
            or array_contains(cast(:teams as array<string>), team)
        )
        and (
            size(cast(:strategies as array<string>)) = 0
            or array_contains(cast(:strategies as array<string>), strategy)
        )
),

-- The counted contacts (queries/breach_counted.sql): channel, direction and outcome as given, and
-- not in a consent window when :consent_exclusion.
counted as (
    select
        c.contact_id,
        c.account_id,
        c.ts,
        c.local_ts,
        c.day_number
    from breach_contacts as c
    left semi join accounts as a on c.account_id = a.account_id
    where array_contains(cast(:channels as array<string>), c.channel)
        and array_contains(cast(:directions as array<string>), c.direction)
        and (c.outcome is null or not array_contains(cast(:outcomes_excluded as array<string>), c.outcome))
        and not coalesce(
            :consent_exclusion and c.day_number <= c.latest_consent_day + (:consent_window_days - 1), false
        )
),

-- Per contact, in (local date, ts, contact_id) order within its account: its place (pos); n = pos
-- minus the contacts dated before the window, the exact window count where local dates never go
-- back along contact order and an upper bound elsewhere (a contact dated in the window but after c
-- in contact order is counted); and whether the contact before it in that order has a later instant.
ranked as (
    select
        *,
        row_number() over by_day_ordered as pos,
        row_number() over by_day_ordered - count(*) over (
            partition by account_id order by day_number
            range between unbounded preceding and :window_days preceding
        ) as n,
        coalesce(lag(ts) over by_day_ordered > ts, false) as goes_back
    from counted
    window by_day_ordered as (partition by account_id order by day_number, ts, contact_id)
),

irregular_accounts as (
    select distinct account_id
    from ranked
    where goes_back
),

flagged as (
    select *
    from ranked
    where n > :cap
),

regular_flagged as (
    select f.*
    from flagged as f
    left anti join irregular_accounts as i on f.account_id = i.account_id
),

-- Where local dates never go back, the window is the n contacts up to pos in (local date, ts,
-- contact_id) order, which is contact order.
account_lists as (
    select
        p.account_id,
        transform(array_sort(collect_list(named_struct('pos', p.pos, 'contact_id', p.contact_id))), x -> x.contact_id)
            as ids
    from ranked as p
    left semi join regular_flagged as f on p.account_id = f.account_id
    group by p.account_id
),

regular_windows as (
    select
        f.contact_id,
        f.account_id,
        f.ts,
        f.local_ts,
        f.day_number,
        slice(l.ids, cast(f.pos - f.n + 1 as int), cast(f.n as int)) as window_ids
    from regular_flagged as f
    inner join account_lists as l on f.account_id = l.account_id
),

-- Elsewhere the window of each flagged contact exactly: counted contacts of its account dated in the
-- window that come at or before it in contact order (an equi-join per local day).
irregular_window_days as (
    select
        f.contact_id,
        f.account_id,
        f.ts,
        f.local_ts,
        f.day_number,
        explode(sequence(f.day_number - (:window_days - 1), f.day_number)) as window_day
    from flagged as f
    left semi join irregular_accounts as i on f.account_id = i.account_id
),

irregular_windows as (
    select
        d.contact_id,
        any_value(d.account_id) as account_id,
        any_value(d.ts) as ts,
        any_value(d.local_ts) as local_ts,
        any_value(d.day_number) as day_number,
        -- array_sort orders the structs by ts, then contact_id: contact order.
        transform(array_sort(collect_list(named_struct('ts', w.ts, 'contact_id', w.contact_id))), x -> x.contact_id)
            as window_ids
    from irregular_window_days as d
    inner join counted as w
        on d.account_id = w.account_id
        and d.window_day = w.day_number
        and (w.ts < d.ts or (w.ts = d.ts and w.contact_id <= d.contact_id))
    group by d.contact_id
),

windows as (
    select * from regular_windows
    union all
    select * from irregular_windows
),

final as (
    select
        w.contact_id,
        w.account_id,
        :rule_id as rule_id,
        w.ts,
        w.local_ts,
        to_json(named_struct('contacts', w.window_ids)) as evidence,
        concat(
            'Counted ', :noun, ' number ', size(w.window_ids),
            ' in the ', :window_days, ' local days ',
            cast(date_add(date '1970-01-01', w.day_number - (:window_days - 1)) as string), ' to ',
            cast(date_add(date '1970-01-01', w.day_number) as string),
            ' (', a.timezone, '), more than the cap of ', :cap, '.'
        ) as explanation
    from windows as w
    inner join accounts as a on w.account_id = a.account_id
    where size(w.window_ids) > :cap
)

select * from final
