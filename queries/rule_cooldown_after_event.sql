-- Breaches of one cooldown_after_event rule: counted contacts placed within $window_days local days
-- after an event (default: a telephone conversation, either direction); the event's date is day 1.
-- Grain: one row per breaching contact (contact_id unique).
-- Reads: temp tables breach_contacts (queries/breach_contacts.sql), breach_counted
--   (queries/breach_counted.sql: the counted contacts) and breach_accounts
--   (queries/breach_accounts.sql).
-- Parameters: $rule_id; event: $event_channels, $event_directions, $event_outcomes (varchar lists);
--   $window_days (int); $noun ('call'/'contact') and $event_noun (e.g.
--   'telephone conversation') for the explanation; account filter $vulnerable (bool or null = any),
--   $states, $portfolios, $products, $teams, $strategies (varchar lists, empty = any).
-- Joins go by account_key (breach_accounts' integer key), far cheaper than the text id.
-- Rule: contact c breaches when some event v of the account has v.ts < c.ts (timestamps as written,
--   strictly) and d(c) <= d(v) + $window_days - 1, d() the local date in the account's timezone.
with

accounts as (
    select
        account_key,
        account_id,
        timezone
    from breach_accounts
    where ($vulnerable is null or coalesce(vulnerable, false) = $vulnerable)
        and (len($states::varchar[]) = 0 or list_contains($states::varchar[], state_code))
        and (len($portfolios::varchar[]) = 0 or list_contains($portfolios::varchar[], portfolio))
        and (len($products::varchar[]) = 0 or list_contains($products::varchar[], product))
        and (len($teams::varchar[]) = 0 or list_contains($teams::varchar[], team))
        and (len($strategies::varchar[]) = 0 or list_contains($strategies::varchar[], strategy))
),

contacts as (
    select
        contact_id,
        account_key,
        ts,
        channel,
        direction,
        outcome,
        local_ts,
        day_number
    from breach_contacts
),

-- For each event, the latest local date among the account's events up to its timestamp (ties
-- included) and the event that has it (latest in contact order among those), so that an as-of
-- join on "the last event strictly before c" sees every earlier event.
events as (
    select
        v.account_key,
        v.ts,
        max(v.day_number) over running as latest_event_day,
        arg_max(
            {'contact_id': v.contact_id, 'ts': v.ts, 'day_number': v.day_number},
            {'day_number': v.day_number, 'ts': v.ts, 'contact_id': v.contact_id}
        ) over running as latest_event
    from contacts as v
    semi join accounts as a on v.account_key = a.account_key
    where list_contains($event_channels::varchar[], v.channel)
        and list_contains($event_directions::varchar[], v.direction)
        and list_contains($event_outcomes::varchar[], v.outcome)
    window running as (
        partition by v.account_key order by v.ts
        range between unbounded preceding and current row
    )
),

-- Pruning: an event v can only reach counted contacts whose local date is within $window_days days
-- of its own (and the buckets either side also cover local dates going back by up to a week), so a counted contact
-- needs an event of its account in its $window_days-day bucket (k = d div $window_days) or the one
-- before or after it.
event_buckets as (
    select distinct
        account_key,
        floor(latest_event_day / $window_days)::bigint + unnest([-1, 0, 1]) as bucket
    from events
),

counted as (
    select c.*
    from breach_counted as c
    semi join event_buckets as e
        on c.account_key = e.account_key
        and floor(c.day_number / $window_days)::bigint = e.bucket
),

matched as (
    select
        c.*,
        e.latest_event
    from counted as c
    asof inner join events as e
        on c.account_key = e.account_key and c.ts > e.ts
    where c.day_number <= e.latest_event_day + ($window_days - 1)
),

final as (
    select
        m.contact_id,
        a.account_id,
        $rule_id as rule_id,
        m.ts,
        m.local_ts,
        to_json({
            'conversation': m.latest_event.contact_id,
            'at': strftime(make_timestamp(epoch_us(m.latest_event.ts)), '%Y-%m-%dT%H:%M:%SZ'),
            'local_date': strftime(date '1970-01-01' + m.latest_event.day_number, '%Y-%m-%d')
        }) as evidence,
        -- concat, not printf: a tenth of the cost here
        concat(
            'Counted ', $noun::varchar, ' on local day ', m.day_number - m.latest_event.day_number + 1, ' after the ',
            $event_noun::varchar, ' ', m.latest_event.contact_id, ' of ',
            strftime(date '1970-01-01' + m.latest_event.day_number, '%Y-%m-%d'), ' (day 1, ', a.timezone,
            '), within the ', $window_days::integer, '-day cooldown.'
        ) as explanation
    from matched as m
    inner join accounts as a on m.account_key = a.account_key
)

select * from final
