-- Breaches of one cooldown_after_event rule on Spark (the Spark variant of
-- queries/rule_cooldown_after_event.sql, same output): counted contacts placed within :window_days
-- local days after an event (default: a telephone conversation, either direction); the event's date
-- is day 1.
-- Grain: one row per breaching contact (contact_id unique).
-- Reads: temp view breach_contacts (queries/spark/breach_contacts.sql), accounts.
-- Parameters: :rule_id; event: :event_channels, :event_directions, :event_outcomes (array<string>);
--   :window_days (int); :noun ('call'/'contact') and :event_noun (e.g. 'telephone conversation') for
--   the explanation; counting: :channels, :directions, :outcomes_excluded (array<string>),
--   :consent_exclusion (boolean), :consent_window_days (int); account filter :vulnerable (boolean,
--   null = any), :states, :portfolios, :products, :teams, :strategies (array<string>, empty = any).
-- Rule: contact c breaches when some event v of the account has v.ts < c.ts (timestamps as written,
--   strictly) and d(c) <= d(v) + :window_days - 1, d() the local date in the account's timezone; the
--   evidence is the event latest in (local date, ts, contact_id) among those before c.
-- Why a variant: the DuckDB query finds the events before a contact with an asof join, which Spark
--   SQL lacks; here events and counted contacts are one stream per account ordered by instant.
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

events as (
    select
        v.account_id,
        v.ts,
        named_struct('day_number', v.day_number, 'ts', v.ts, 'contact_id', v.contact_id) as event
    from breach_contacts as v
    left semi join accounts as a on v.account_id = a.account_id
    where array_contains(cast(:event_channels as array<string>), v.channel)
        and array_contains(cast(:event_directions as array<string>), v.direction)
        and array_contains(cast(:event_outcomes as array<string>), v.outcome)
),

-- Counted contacts and events in one stream per account: for a counted contact, the latest event
-- (by local date, ts, contact_id) among those with an earlier instant (the frame ends 1 microsecond
-- before its own).
stream as (
    select
        contact_id,
        account_id,
        ts,
        local_ts,
        day_number,
        cast(null as struct<day_number: int, ts: timestamp, contact_id: string>) as event
    from counted
    union all
    select
        cast(null as string) as contact_id,
        account_id,
        ts,
        cast(null as timestamp) as local_ts,
        cast(null as int) as day_number,
        event
    from events
),

matched as (
    select
        contact_id,
        account_id,
        ts,
        local_ts,
        day_number,
        max(event) over (
            partition by account_id order by unix_micros(ts)
            range between unbounded preceding and 1 preceding
        ) as latest_event
    from stream
),

final as (
    select
        m.contact_id,
        a.account_id,
        :rule_id as rule_id,
        m.ts,
        m.local_ts,
        to_json(named_struct(
            'conversation', m.latest_event.contact_id,
            'at', date_format(m.latest_event.ts, "yyyy-MM-dd'T'HH:mm:ss'Z'"),
            'local_date', cast(date_add(date '1970-01-01', m.latest_event.day_number) as string)
        )) as evidence,
        concat(
            'Counted ', :noun, ' on local day ', m.day_number - m.latest_event.day_number + 1, ' after the ',
            :event_noun, ' ', m.latest_event.contact_id, ' of ',
            cast(date_add(date '1970-01-01', m.latest_event.day_number) as string), ' (day 1, ', a.timezone,
            '), within the ', :window_days, '-day cooldown.'
        ) as explanation
    from matched as m
    inner join accounts as a on m.account_id = a.account_id
    where m.contact_id is not null
        and m.day_number <= m.latest_event.day_number + (:window_days - 1)
)

select * from final
