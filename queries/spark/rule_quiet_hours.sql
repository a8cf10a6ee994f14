-- Breaches of one quiet_hours rule on Spark (the Spark variant of queries/rule_quiet_hours.sql, same
-- output): contacts whose wall time is before :start or at/after :end in the account's timezone or
-- (when :zones includes it and it is given) its phone_timezone.
-- Grain: one row per breaching contact (contact_id unique).
-- Reads: temp view breach_contacts (queries/spark/breach_contacts.sql).
-- Parameters: :rule_id; :channels, :directions, :zones (array<string>); :start, :end (text
--   'HH:MM:SS', for the explanation) and :start_us, :end_us (the same times in microseconds after
--   midnight); :reply_exemption_hours (int, 0 = none); account filter :vulnerable (boolean, null =
--   any), :states, :portfolios, :products, :teams, :strategies (array<string>, empty = any).
-- Reply exemption: an outbound contact o on channel X is exempt when its predecessor on X in contact
--   order (ts, contact_id) is inbound and at most :reply_exemption_hours of elapsed time earlier
--   (DECISIONS.md "Contact rules", rule 3).
-- Why a variant: the DuckDB query is a table macro over DuckDB's temp tables and compares TIME
--   values; Spark SQL compares the microseconds of the wall time after local midnight.
with

-- Every contact of the rule's channels with its predecessor on the same channel in contact order.
sequenced as (
    select
        contact_id,
        account_id,
        timezone,
        phone_timezone,
        ts,
        channel,
        direction,
        local_ts,
        phone_local_ts,
        lag(direction) over by_channel as previous_direction,
        lag(ts) over by_channel as previous_ts
    from breach_contacts
    where array_contains(cast(:channels as array<string>), channel)
        -- the account selector, from its one home (queries/semantic/macros.sql), inlined by analysis.spark.sql
        and rule_selects(
            :vulnerable, cast(:states as array<string>), cast(:portfolios as array<string>),
            cast(:products as array<string>), cast(:teams as array<string>), cast(:strategies as array<string>),
            vulnerable, state_code, portfolio, product, team, strategy
        )
    window by_channel as (partition by account_id, channel order by ts, contact_id)
),

outside as (
    select
        *,
        array_contains(cast(:zones as array<string>), 'timezone')
        and (
            pmod(unix_micros(local_ts), 86400000000) < :start_us
            or pmod(unix_micros(local_ts), 86400000000) >= :end_us
        ) as account_zone_outside,
        coalesce(
            array_contains(cast(:zones as array<string>), 'phone_timezone')
            and (
                pmod(unix_micros(phone_local_ts), 86400000000) < :start_us
                or pmod(unix_micros(phone_local_ts), 86400000000) >= :end_us
            ),
            false
        ) as phone_zone_outside
    from sequenced
    where array_contains(cast(:directions as array<string>), direction)
),

breaching as (
    select
        *,
        case when account_zone_outside then timezone else phone_timezone end as zone,
        case when account_zone_outside then local_ts else phone_local_ts end as zone_local_ts
    from outside
    where (account_zone_outside or phone_zone_outside)
        and not coalesce(
            :reply_exemption_hours > 0
            and previous_direction = 'inbound'
            and unix_micros(ts) - unix_micros(previous_ts) <= :reply_exemption_hours * 3600000000,
            false
        )
),

final as (
    select
        contact_id,
        account_id,
        :rule_id as rule_id,
        ts,
        local_ts,
        to_json(named_struct('zone', zone, 'local_time', date_format(zone_local_ts, "yyyy-MM-dd'T'HH:mm:ss")))
            as evidence,
        concat(
            'Outbound ', channel, ' at ', date_format(zone_local_ts, 'HH:mm:ss'), ' local time in ', zone,
            ', outside the permitted ', :start, ' to ', :end, '.'
        ) as explanation
    from breaching
)

select * from final
