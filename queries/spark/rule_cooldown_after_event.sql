-- Breaches of one cooldown_after_event rule on Spark (the Spark variant of
-- queries/rule_cooldown_after_event.sql, same output): counted contacts placed within :window_days
-- local days after an event (default: a telephone conversation, either direction); the event's date
-- is day 1.
-- Grain: one row per breaching contact (contact_id unique).
-- Reads: temp view breach_contacts (queries/spark/breach_contacts.sql).
-- Parameters: :rule_id; event: :event_channels, :event_directions, :event_outcomes (array<string>);
--   :window_days (int); :noun ('call'/'contact') and :event_noun (e.g. 'telephone conversation') for
--   the explanation; counting: :channels, :directions, :outcomes_excluded (array<string>),
--   :consent_exclusion (boolean), :consent_window_days (int); account filter :vulnerable (boolean,
--   null = any), :states, :portfolios, :products, :teams, :strategies (array<string>, empty = any).
-- Rule: contact c breaches when some event v of the account has v.ts < c.ts (timestamps as written,
--   strictly) and d(c) <= d(v) + :window_days - 1, d() the local date in the account's timezone; the
--   evidence is the event latest in (local date, ts, contact_id) among those before c.
-- Why a variant: the DuckDB query finds the events before a contact with an asof join, which Spark
--   SQL lacks; here a running maximum over the account's contacts by instant finds them.
with

contacts as (
    select
        contact_id,
        account_id,
        timezone,
        ts,
        local_ts,
        day_number,
        coalesce(
            array_contains(cast(:channels as array<string>), channel)
            and array_contains(cast(:directions as array<string>), direction)
            and (outcome is null or not array_contains(cast(:outcomes_excluded as array<string>), outcome))
            and not coalesce(
                :consent_exclusion and day_number <= latest_consent_day + (:consent_window_days - 1), false
            ),
            false
        ) as is_counted,
        coalesce(
            array_contains(cast(:event_channels as array<string>), channel)
            and array_contains(cast(:event_directions as array<string>), direction)
            and array_contains(cast(:event_outcomes as array<string>), outcome),
            false
        ) as is_event
    from breach_contacts
    where true
        -- the account selector, from its one home (queries/semantic/macros.sql), inlined by analysis.spark.sql
        and rule_selects(
            :vulnerable, cast(:states as array<string>), cast(:portfolios as array<string>),
            cast(:products as array<string>), cast(:teams as array<string>), cast(:strategies as array<string>),
            vulnerable, state_code, portfolio, product, team, strategy
        )
),

-- For each contact, the latest event (by local date, ts, contact_id) among the account's events with
-- an earlier instant (the frame ends 1 microsecond before its own).
matched as (
    select
        *,
        max(
            case when is_event then named_struct('day_number', day_number, 'ts', ts, 'contact_id', contact_id) end
        ) over (
            partition by account_id order by unix_micros(ts)
            range between unbounded preceding and 1 preceding
        ) as latest_event
    from contacts
),

final as (
    select
        matched.contact_id,
        matched.account_id,
        :rule_id as rule_id,
        matched.ts,
        matched.local_ts,
        to_json(named_struct(
            'conversation', latest_event.contact_id,
            'at', date_format(latest_event.ts, "yyyy-MM-dd'T'HH:mm:ss'Z'"),
            'local_date', cast(date_add(date '1970-01-01', latest_event.day_number) as string)
        )) as evidence,
        concat(
            'Counted ', :noun, ' on local day ', matched.day_number - latest_event.day_number + 1, ' after the ',
            :event_noun, ' ', latest_event.contact_id, ' of ',
            cast(date_add(date '1970-01-01', latest_event.day_number) as string), ' (day 1, ', matched.timezone,
            '), within the ', :window_days, '-day cooldown.'
        ) as explanation
    from matched
    where matched.is_counted
        and matched.day_number <= latest_event.day_number + (:window_days - 1)
)

select * from final
