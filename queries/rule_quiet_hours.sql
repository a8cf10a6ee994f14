-- Breaches of one quiet_hours rule: contacts whose wall time is before $start or at/after $end in
-- the account's timezone or (when $zones includes it and it is given) its phone_timezone.
-- Grain: one row per breaching contact (contact_id unique).
-- Parameters: $rule_id; $channels, $directions (varchar lists); $start, $end (time, 'HH:MM:SS');
--   $zones (varchar list of 'timezone', 'phone_timezone'); $reply_exemption_hours (int, 0 = none);
--   account filter $vulnerable, $states, $portfolios, $products, $teams, $strategies (as in rule_windowed_cap).
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
        direction
    from contacts
),

-- Every contact on the rule's channels (both directions), with its predecessor on the same channel.
sequenced as (
    select
        c.contact_id,
        c.account_id,
        c.ts,
        c.channel,
        c.direction,
        a.timezone,
        a.phone_timezone,
        lag(c.direction) over by_channel as previous_direction,
        lag(c.ts) over by_channel as previous_ts
    from contacts as c
    inner join accounts as a on c.account_id = a.account_id
    where list_contains($channels::varchar[], c.channel)
    window by_channel as (partition by c.account_id, c.channel order by c.ts, c.contact_id)
),

timed as (
    select
        *,
        timezone(timezone, ts) as local_ts,
        case when list_contains($zones::varchar[], 'timezone') then cast(timezone(timezone, ts) as time) end
            as account_zone_time,
        case when list_contains($zones::varchar[], 'phone_timezone') and phone_timezone is not null
            then cast(timezone(phone_timezone, ts) as time) end as phone_zone_time
    from sequenced
    where list_contains($directions::varchar[], direction)
),

outside as (
    select
        *,
        account_zone_time < cast($start as time) or account_zone_time >= cast($end as time) as account_zone_outside,
        phone_zone_time < cast($start as time) or phone_zone_time >= cast($end as time) as phone_zone_outside
    from timed
),

breaching as (
    select *
    from outside
    where (coalesce(account_zone_outside, false) or coalesce(phone_zone_outside, false))
        and not coalesce(
            $reply_exemption_hours > 0
            and previous_direction = 'inbound'
            and epoch_us(ts) - epoch_us(previous_ts) <= $reply_exemption_hours * 3600000000,
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
        to_json({
            'zone': case when account_zone_outside then timezone else phone_timezone end,
            'local_time': strftime(
                timezone(case when account_zone_outside then timezone else phone_timezone end, ts),
                '%Y-%m-%dT%H:%M:%S'
            )
        }) as evidence,
        printf(
            'Outbound %s at %s local time in %s, outside the permitted %s to %s.',
            channel,
            strftime(timezone(case when account_zone_outside then timezone else phone_timezone end, ts), '%H:%M:%S'),
            case when account_zone_outside then timezone else phone_timezone end,
            $start, $end
        ) as explanation
    from breaching
)

select * from final
