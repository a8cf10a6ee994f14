-- Breaches of one quiet_hours rule: contacts whose wall time is before $start or at/after $end in
-- the account's timezone or (when $zones includes it and it is given) its phone_timezone.
-- Grain: one row per breaching contact (contact_id unique).
-- Reads: temp table breach_contacts (queries/breach_contacts.sql), accounts.
-- Parameters: $rule_id; $channels, $directions (varchar lists); $start, $end (time, 'HH:MM:SS');
--   $zones (varchar list of 'timezone', 'phone_timezone'); $reply_exemption_hours (int, 0 = none);
--   account filter $vulnerable, $states, $portfolios, $products, $teams, $strategies (as in
--   rule_cooldown_after_event).
-- Reply exemption: an outbound contact o on channel X is exempt when an inbound contact i on X of the
--   account comes before o in contact order (ts, contact_id), o.ts - i.ts <= the hours in elapsed
--   microseconds, and no other outbound contact on X comes between them. That is: o's predecessor
--   on X in contact order is inbound (an outbound predecessor would sit between o and any inbound
--   before it) and within the hours (the latest inbound is the closest in time).
with

accounts as (
    select
        account_id,
        timezone,
        phone_timezone
    from accounts
    where ($vulnerable is null or coalesce(vulnerable, false) = $vulnerable)
        and (len($states::varchar[]) = 0 or list_contains($states::varchar[], upper(trim(state))))
        and (len($portfolios::varchar[]) = 0 or list_contains($portfolios::varchar[], portfolio))
        and (len($products::varchar[]) = 0 or list_contains($products::varchar[], product))
        and (len($teams::varchar[]) = 0 or list_contains($teams::varchar[], team))
        and (len($strategies::varchar[]) = 0 or list_contains($strategies::varchar[], strategy))
),

contacts as (
    select
        contact_id,
        account_id,
        ts,
        channel,
        direction,
        local_ts,
        phone_local_ts
    from breach_contacts
    where list_contains($channels::varchar[], channel)
),

outside as (
    select
        c.*,
        list_contains($zones::varchar[], 'timezone')
            and (cast(c.local_ts as time) < cast($start as time) or cast(c.local_ts as time) >= cast($end as time))
            as account_zone_outside,
        coalesce(
            list_contains($zones::varchar[], 'phone_timezone')
            and (cast(c.phone_local_ts as time) < cast($start as time)
                or cast(c.phone_local_ts as time) >= cast($end as time)),
            false
        ) as phone_zone_outside
    from contacts as c
    semi join accounts as a on c.account_id = a.account_id
    where list_contains($directions::varchar[], c.direction)
),

candidates as (
    select *
    from outside
    where account_zone_outside or phone_zone_outside
),

-- Every contact on the channels of (account, channel) pairs that have a candidate, with its
-- predecessor on the same channel in contact order.
sequenced as (
    select
        c.contact_id,
        lag(c.direction) over by_channel as previous_direction,
        lag(c.ts) over by_channel as previous_ts
    from contacts as c
    semi join (select distinct account_id, channel from candidates) as k
        on c.account_id = k.account_id and c.channel = k.channel
    window by_channel as (partition by c.account_id, c.channel order by c.ts, c.contact_id)
),

breaching as (
    select
        c.*,
        case when c.account_zone_outside then a.timezone else a.phone_timezone end as zone,
        case when c.account_zone_outside then c.local_ts else c.phone_local_ts end as zone_local_ts
    from candidates as c
    inner join sequenced as s on c.contact_id = s.contact_id
    inner join accounts as a on c.account_id = a.account_id
    where not coalesce(
        $reply_exemption_hours > 0
        and s.previous_direction = 'inbound'
        and epoch_us(c.ts) - epoch_us(s.previous_ts) <= $reply_exemption_hours * 3600000000,
        false
    )
),

final as (
    select
        contact_id,
        account_id,
        $rule_id as rule_id,
        ts,
        local_ts,
        to_json({'zone': zone, 'local_time': strftime(zone_local_ts, '%Y-%m-%dT%H:%M:%S')}) as evidence,
        printf(
            'Outbound %s at %s local time in %s, outside the permitted %s to %s.',
            channel, strftime(zone_local_ts, '%H:%M:%S'), zone, $start, $end
        ) as explanation
    from breaching
)

select * from final
