-- Macro: rule_cooldown_after_event(p_counted, p_event_channels, p_event_directions, p_event_noun, p_event_outcomes, p_noun, p_portfolios, p_products, p_rule_id, p_states, p_strategies, p_teams, p_vulnerable, p_window_days)
-- Breaches of one cooldown_after_event rule: counted contacts placed within p_window_days local days
-- after an event (default: a telephone conversation, either direction); the event's date is day 1.
-- Grain: one row per breaching contact (contact_id unique).
-- Reads: temp tables breach_contacts (queries/breach_contacts.sql), breach_counted
--   (queries/breach_counted.sql: the counted contacts) and breach_accounts
--   (queries/breach_accounts.sql).
-- Parameters: p_rule_id; event: p_event_channels, p_event_directions, p_event_outcomes (varchar lists);
--   p_window_days (int); p_noun ('call'/'contact') and p_event_noun (e.g.
--   'telephone conversation') for the explanation; account filter p_vulnerable (bool or null = any),
--   p_states, p_portfolios, p_products, p_teams, p_strategies (varchar lists, empty = any).
-- Joins go by account_key (breach_accounts' integer key), far cheaper than the text id.
-- Rule: contact c breaches when some event v of the account has v.ts < c.ts (timestamps as written,
--   strictly) and d(c) <= d(v) + p_window_days - 1, d() the local date in the account's timezone.
with

accounts as (
    select
        account_key,
        account_id,
        timezone
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
    where list_contains(p_event_channels::varchar[], v.channel)
        and list_contains(p_event_directions::varchar[], v.direction)
        and list_contains(p_event_outcomes::varchar[], v.outcome)
    window running as (
        partition by v.account_key order by v.ts
        range between unbounded preceding and current row
    )
),

-- Pruning: an event v can only reach counted contacts whose local date is within p_window_days days
-- of its own (and the buckets either side also cover local dates going back by up to a week), so a counted contact
-- needs an event of its account in its p_window_days-day bucket (k = d div p_window_days) or the one
-- before or after it.
event_buckets as (
    select distinct
        account_key,
        floor(latest_event_day / p_window_days)::bigint + unnest([-1, 0, 1]) as bucket
    from events
),

counted as (
    select c.*
    from query_table(p_counted) as c
    semi join event_buckets as e
        on c.account_key = e.account_key
        and floor(c.day_number / p_window_days)::bigint = e.bucket
),

matched as (
    select
        c.*,
        e.latest_event
    from counted as c
    asof inner join events as e
        on c.account_key = e.account_key and c.ts > e.ts
    where c.day_number <= e.latest_event_day + (p_window_days - 1)
),

final as (
    select
        m.contact_id,
        a.account_id,
        p_rule_id as rule_id,
        m.ts,
        m.local_ts,
        to_json({
            'conversation': m.latest_event.contact_id,
            'at': strftime(make_timestamp(epoch_us(m.latest_event.ts)), '%Y-%m-%dT%H:%M:%SZ'),
            'local_date': strftime(date '1970-01-01' + m.latest_event.day_number, '%Y-%m-%d')
        }) as evidence,
        -- concat, not printf: a tenth of the cost here
        concat(
            'Counted ', p_noun::varchar, ' on local day ', m.day_number - m.latest_event.day_number + 1, ' after the ',
            p_event_noun::varchar, ' ', m.latest_event.contact_id, ' of ',
            strftime(date '1970-01-01' + m.latest_event.day_number, '%Y-%m-%d'), ' (day 1, ', a.timezone,
            '), within the ', p_window_days::integer, '-day cooldown.'
        ) as explanation
    from matched as m
    inner join accounts as a on m.account_key = a.account_key
)

select * from final
