-- Breaches of one cooldown_after_event rule: counted contacts placed within $window_days local days
-- after an event (default: a telephone conversation, either direction); the event's date is day 1.
-- Grain: one row per breaching contact (contact_id unique).
-- Reads: temp tables breach_contacts (queries/breach_contacts.sql) and breach_counted
--   (queries/breach_counted.sql: the counted contacts), accounts.
-- Parameters: $rule_id; event: $event_channels, $event_directions, $event_outcomes (varchar lists);
--   $window_days (int); $noun ('call'/'contact') and $event_noun (e.g.
--   'telephone conversation') for the explanation; account filter $vulnerable (bool or null = any),
--   $states, $portfolios, $products, $teams, $strategies (varchar lists, empty = any).
-- Joins within the account go by account_key (breach_contacts' integer key), cheaper than the text id.
-- Rule: contact c breaches when some event v of the account has v.ts < c.ts (timestamps as written,
--   strictly) and d(c) <= d(v) + $window_days - 1, d() the local date in the account's timezone.
with

accounts as (
    select
        account_id,
        timezone
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
        account_key,
        ts,
        channel,
        direction,
        outcome,
        local_ts,
        local_date
    from breach_contacts
),

-- For each event, the latest local date among the account's events up to its timestamp (ties
-- included) and the event that has it (latest in contact order among those), so that an as-of
-- join on "the last event strictly before c" sees every earlier event.
events as (
    select
        v.account_key,
        v.ts,
        max(v.local_date) over running as latest_event_date,
        arg_max(
            {'contact_id': v.contact_id, 'ts': v.ts, 'local_date': v.local_date},
            {'local_date': v.local_date, 'ts': v.ts, 'contact_id': v.contact_id}
        ) over running as latest_event
    from contacts as v
    semi join accounts as a on v.account_id = a.account_id
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
        floor(local_date_number / $window_days)::bigint + unnest([-1, 0, 1]) as bucket
    from (
        select
            account_key,
            latest_event_date - date '1970-01-01' as local_date_number
        from events
    )
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
    where c.local_date <= e.latest_event_date + ($window_days - 1)
),

final as (
    select
        m.contact_id,
        m.account_id,
        $rule_id as rule_id,
        m.ts,
        m.local_ts,
        to_json({
            'conversation': m.latest_event.contact_id,
            'at': strftime(timezone('UTC', m.latest_event.ts), '%Y-%m-%dT%H:%M:%SZ'),
            'local_date': strftime(m.latest_event.local_date, '%Y-%m-%d')
        }) as evidence,
        printf(
            'Counted %s on local day %d after the %s %s of %s (day 1, %s), within the %d-day cooldown.',
            $noun, m.local_date - m.latest_event.local_date + 1, $event_noun, m.latest_event.contact_id,
            strftime(m.latest_event.local_date, '%Y-%m-%d'), a.timezone, $window_days
        ) as explanation
    from matched as m
    inner join accounts as a on m.account_id = a.account_id
)

select * from final
