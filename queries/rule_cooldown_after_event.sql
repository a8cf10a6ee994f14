-- Breaches of one cooldown_after_event rule: counted contacts placed within $window_days local days
-- after an event (default: a telephone conversation, either direction); the event's date is day 1.
-- Grain: one row per breaching contact (contact_id unique).
-- Parameters: $rule_id; event: $event_channels, $event_directions, $event_outcomes (varchar lists);
--   counted contacts: $channels, $directions, $outcomes_excluded, $consent_exclusion, $consent_window_days
--   (as in rule_windowed_cap); $window_days (int); $noun ('call'/'contact'); $event_noun (e.g. 'telephone conversation');
--   account filter $vulnerable, $states, $portfolios, $products, $teams, $strategies (as in rule_windowed_cap).
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
        ts,
        channel,
        direction,
        outcome
    from contacts
),

consents as (
    select
        account_id,
        given_at
    from consents
),

candidates as (
    select
        c.contact_id,
        c.account_id,
        c.ts,
        a.timezone,
        timezone(a.timezone, c.ts) as local_ts,
        cast(timezone(a.timezone, c.ts) as date) as local_date
    from contacts as c
    inner join accounts as a on c.account_id = a.account_id
    where list_contains($channels::varchar[], c.channel)
        and list_contains($directions::varchar[], c.direction)
        and (c.outcome is null or not list_contains($outcomes_excluded::varchar[], c.outcome))
),

consent_dates as (
    select
        g.account_id,
        g.given_at,
        max(cast(timezone(a.timezone, g.given_at) as date)) over (
            partition by g.account_id order by g.given_at
            range between unbounded preceding and current row
        ) as latest_consent_date
    from consents as g
    inner join accounts as a on g.account_id = a.account_id
    where $consent_exclusion
),

counted as (
    select p.*
    from candidates as p
    asof left join consent_dates as g
        on p.account_id = g.account_id and p.ts >= g.given_at
    where g.given_at is null
        or p.local_date > g.latest_consent_date + ($consent_window_days - 1)
),

-- For each event, the latest local date among the account's events up to its timestamp (ties
-- included) and the event that has it (latest in contact order among those), so that an as-of
-- join on "the last event strictly before c" sees every earlier event.
events as (
    select
        v.account_id,
        v.ts,
        max(cast(timezone(a.timezone, v.ts) as date)) over running as latest_event_date,
        arg_max(
            {'contact_id': v.contact_id, 'ts': v.ts, 'local_date': cast(timezone(a.timezone, v.ts) as date)},
            {'local_date': cast(timezone(a.timezone, v.ts) as date), 'ts': v.ts, 'contact_id': v.contact_id}
        ) over running as latest_event
    from contacts as v
    inner join accounts as a on v.account_id = a.account_id
    where list_contains($event_channels::varchar[], v.channel)
        and list_contains($event_directions::varchar[], v.direction)
        and list_contains($event_outcomes::varchar[], v.outcome)
    window running as (
        partition by v.account_id order by v.ts
        range between unbounded preceding and current row
    )
),

matched as (
    select
        c.*,
        e.latest_event
    from counted as c
    asof inner join events as e
        on c.account_id = e.account_id and c.ts > e.ts
    where c.local_date <= e.latest_event_date + ($window_days - 1)
),

final as (
    select
        contact_id,
        account_id,
        $rule_id as rule_id,
        ts,
        local_ts,
        to_json({
            'conversation': latest_event.contact_id,
            'at': strftime(timezone('UTC', latest_event.ts), '%Y-%m-%dT%H:%M:%SZ'),
            'local_date': strftime(latest_event.local_date, '%Y-%m-%d')
        }) as evidence,
        printf(
            'Counted %s on local day %d after the %s %s of %s (day 1, %s), within the %d-day cooldown.',
            $noun, local_date - latest_event.local_date + 1, $event_noun, latest_event.contact_id,
            strftime(latest_event.local_date, '%Y-%m-%d'), timezone, $window_days
        ) as explanation
    from matched
)

select * from final
