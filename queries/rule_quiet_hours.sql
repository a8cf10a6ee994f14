-- Macro: rule_quiet_hours(p_channels, p_directions, p_end, p_portfolios, p_products, p_reply_exemption_hours, p_rule_id, p_start, p_states, p_strategies, p_teams, p_vulnerable, p_zones)
-- Breaches of one quiet_hours rule: contacts whose wall time is before p_start or at/after p_end in
-- the account's timezone or (when p_zones includes it and it is given) its phone_timezone.
-- Grain: one row per breaching contact (contact_id unique).
-- Reads: temp tables breach_contacts (queries/breach_contacts.sql) and breach_accounts
--   (queries/breach_accounts.sql); joins go by its integer account_key.
-- Parameters: p_rule_id; p_channels, p_directions (varchar lists); p_start, p_end (time, 'HH:MM:SS');
--   p_zones (varchar list of 'timezone', 'phone_timezone'); p_reply_exemption_hours (int, 0 = none);
--   account filter p_vulnerable, p_states, p_portfolios, p_products, p_teams, p_strategies (as in
--   rule_cooldown_after_event).
-- Reply exemption: an outbound contact o on channel X is exempt when an inbound contact i on X of the
--   account comes before o in contact order (ts, contact_id), o.ts - i.ts <= the hours in elapsed
--   microseconds, and no other outbound contact on X comes between them. That is: o's predecessor
--   on X in contact order is inbound (an outbound predecessor would sit between o and any inbound
--   before it) and within the hours (the latest inbound is the closest in time).
with

accounts as (
    select
        account_key,
        account_id,
        timezone,
        phone_timezone
    from breach_accounts
    where rule_selects(
            p_vulnerable, p_states::varchar[], p_portfolios::varchar[], p_products::varchar[], p_teams::varchar[],
            p_strategies::varchar[], vulnerable, state_code, portfolio, product, team, strategy
        )
),

contacts as (
    select
        contact_id,
        account_key,
        ts,
        channel,
        direction,
        local_ts,
        phone_local_ts
    from breach_contacts
    where list_contains(p_channels::varchar[], channel)
),

outside as (
    -- unqualified (one table): the macro's parameters p_* cannot be qualified, and sqlfluff (RF03) wants
    -- a single-table select's references all qualified or none
    select
        *,
        (
            list_contains(p_zones::varchar[], 'timezone')
            and (local_ts::time < p_start::time or local_ts::time >= p_end::time)
        ) as account_zone_outside,
        coalesce(
            list_contains(p_zones::varchar[], 'phone_timezone')
            and (phone_local_ts::time < p_start::time or phone_local_ts::time >= p_end::time),
            false
        ) as phone_zone_outside
    from contacts
    where list_contains(p_directions::varchar[], direction)
),

candidates as (
    select o.*
    from outside as o
    semi join accounts as a on o.account_key = a.account_key
    where o.account_zone_outside or o.phone_zone_outside
),

-- The UTC days (epoch days: every bucket at least 24 hours long) a reply exemption can reach back
-- into: a candidate's own day and the ceil(p_reply_exemption_hours / 24) days before it.
reach as (
    select distinct
        account_key,
        channel,
        epoch_us(ts) // 86400000000 - unnest(range(ceil(p_reply_exemption_hours / 24)::bigint + 1)) as utc_day
    from candidates
),

-- The contacts of those (account, channel, day)s, with their predecessor on the same channel in
-- contact order. This holds every contact of the channel within the hours before a candidate, so a
-- candidate's predecessor here is its real one whenever that one is within the hours; otherwise
-- the predecessor seen here is also older than the hours (or missing) and exempts nothing.
sequenced as (
    select
        c.contact_id,
        lag(c.direction) over by_channel as previous_direction,
        lag(c.ts) over by_channel as previous_ts
    -- read afresh, not from the CTE contacts, which would then be materialised
    from breach_contacts as c
    semi join reach as k
        on c.account_key = k.account_key and c.channel = k.channel and epoch_us(c.ts) // 86400000000 = k.utc_day
    window by_channel as (partition by c.account_key, c.channel order by c.ts, c.contact_id)
),

breaching as (
    select
        c.*,
        a.account_id,
        case when c.account_zone_outside then a.timezone else a.phone_timezone end as zone,
        case when c.account_zone_outside then c.local_ts else c.phone_local_ts end as zone_local_ts
    from candidates as c
    inner join sequenced as s on c.contact_id = s.contact_id
    inner join accounts as a on c.account_key = a.account_key
    where not coalesce(
            p_reply_exemption_hours > 0
            and s.previous_direction = 'inbound'
            and epoch_us(c.ts) - epoch_us(s.previous_ts) <= p_reply_exemption_hours * 3600000000,
            false
        )
),

final as (
    select
        contact_id,
        account_id,
        p_rule_id as rule_id,
        ts,
        local_ts,
        to_json({'zone': zone, 'local_time': strftime(zone_local_ts, '%Y-%m-%dT%H:%M:%S')}) as evidence,
        -- concat, not printf: a tenth of the cost here
        concat(
            'Outbound ', channel, ' at ', strftime(zone_local_ts, '%H:%M:%S'), ' local time in ', zone,
            ', outside the permitted ', p_start::varchar, ' to ', p_end::varchar, '.'
        ) as explanation
    from breaching
)

select * from final
