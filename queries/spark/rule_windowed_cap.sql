-- Breaches of one windowed_cap rule on Spark (the Spark variant of queries/rule_windowed_cap.sql,
-- same output): a counted contact c breaches when the counted contacts of its account with local date
-- in [d(c) - :window_days + 1, d(c)] that come at or before c in contact order (ts, then contact_id)
-- number more than :cap.
-- Grain: one row per breaching contact (contact_id unique).
-- Reads: temp view breach_contacts (queries/spark/breach_contacts.sql).
-- Parameters: :rule_id; :cap, :window_days (int); :noun ('call'/'contact', for the explanation);
--   counting: :channels, :directions, :outcomes_excluded (array<string>), :consent_exclusion (boolean),
--   :consent_window_days (int); account filter :vulnerable (boolean, null = any), :states,
--   :portfolios, :products, :teams, :strategies (array<string>, empty = any; state compared trimmed
--   and upper-cased).
-- Units: ts an instant; local_ts the account's wall time; day_number the local date in days.
-- Why a variant: the DuckDB query is a table macro that takes the counted contacts as a table
--   (query_table), a list of rules as a list of structs, and slices lists with DuckDB's list
--   functions; Spark SQL has none of these. This variant runs once per rule.
with

-- The counted contacts (queries/breach_counted.sql): channel, direction and outcome as given, and
-- not in a consent window when :consent_exclusion.
counted as (
    select
        contact_id,
        account_id,
        timezone,
        ts,
        local_ts,
        day_number
    from breach_contacts
    where array_contains(cast(:channels as array<string>), channel)
        and array_contains(cast(:directions as array<string>), direction)
        and (outcome is null or not array_contains(cast(:outcomes_excluded as array<string>), outcome))
        and not coalesce(:consent_exclusion and day_number <= latest_consent_day + (:consent_window_days - 1), false)
        -- the account selector, from its one home (queries/semantic/macros.sql), inlined by analysis.spark.sql
        and rule_selects(
            :vulnerable, cast(:states as array<string>), cast(:portfolios as array<string>),
            cast(:products as array<string>), cast(:teams as array<string>), cast(:strategies as array<string>),
            vulnerable, state_code, portfolio, product, team, strategy
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

-- Accounts with a contact over the cap by that count, and accounts whose local dates go back
-- somewhere (an earlier local date holds a later instant, e.g. a DST change at midnight).
marked as (
    select
        *,
        max(n) over by_account > :cap as account_flagged,
        max(goes_back) over by_account as account_irregular
    from ranked
    window by_account as (partition by account_id)
),

account_lists as (
    select
        account_id,
        array_sort(collect_list(named_struct('pos', pos, 'day_number', day_number, 'ts', ts, 'contact_id', contact_id)))
            as entries
    from marked
    where account_flagged
    group by account_id
),

-- The window of each flagged contact: where local dates never go back, the n contacts up to pos in
-- (local date, ts, contact_id) order, which is contact order; elsewhere, exactly, the counted contacts
-- dated in the window that come at or before it in contact order, sorted in contact order.
windows as (
    select
        f.contact_id,
        f.account_id,
        f.timezone,
        f.ts,
        f.local_ts,
        f.day_number,
        case
            when f.account_irregular
                then transform(
                        array_sort(transform(
                            filter(
                                l.entries,
                                x -> x.day_number between f.day_number - (:window_days - 1) and f.day_number
                                and (x.ts < f.ts or (x.ts = f.ts and x.contact_id <= f.contact_id))
                            ),
                            x -> named_struct('ts', x.ts, 'contact_id', x.contact_id)
                        )),
                        x -> x.contact_id
                    )
            else transform(slice(l.entries, cast(f.pos - f.n + 1 as int), cast(f.n as int)), x -> x.contact_id)
        end as window_ids
    from marked as f
    inner join account_lists as l on f.account_id = l.account_id
    where f.n > :cap
),

final as (
    select
        contact_id,
        account_id,
        :rule_id as rule_id,
        ts,
        local_ts,
        to_json(named_struct('contacts', window_ids)) as evidence,
        concat(
            'Counted ', :noun, ' number ', size(window_ids),
            ' in the ', :window_days, ' local days ',
            cast(date_add(date '1970-01-01', day_number - (:window_days - 1)) as string), ' to ',
            cast(date_add(date '1970-01-01', day_number) as string),
            ' (', timezone, '), more than the cap of ', :cap, '.'
        ) as explanation
    from windows
    where size(window_ids) > :cap
)

select * from final
