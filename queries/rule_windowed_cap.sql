-- Breaches of one windowed_cap rule: one row per counted contact that is more than $cap-th in its window.
-- Grain: one row per breaching contact (contact_id unique).
-- Parameters: $rule_id; counted contacts: $channels, $directions, $outcomes_excluded (varchar lists),
--   $consent_exclusion (bool), $consent_window_days (int, consent window = local dates d(G) .. d(G)+n-1);
--   $window_days (int, window = local dates d(c)-n+1 .. d(c)), $cap (int); $noun ('call'/'contact');
--   account filter $vulnerable (bool or null = any), $states, $portfolios, $products, $teams, $strategies
--   (varchar lists, empty = any; state compared trimmed and upper-cased).
-- Units: ts is an instant (TIMESTAMPTZ); local_ts the account's wall time; local dates in the account's timezone.
-- Order ("at or before c") is contact order: ts, then contact_id.
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

-- Contacts of the rule's channels/directions whose outcome is not excluded, with local date.
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

-- For each consent, the latest local date of any consent given at or before it: a contact is in
-- some consent window iff its date is within the window of the consent with the latest date.
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
    select
        p.contact_id,
        p.account_id,
        p.ts,
        p.timezone,
        p.local_ts,
        p.local_date,
        p.local_date - date '1970-01-01' as day_number
    from candidates as p
    asof left join consent_dates as g
        on p.account_id = g.account_id and p.ts >= g.given_at
    where g.given_at is null
        or p.local_date > g.latest_consent_date + ($consent_window_days - 1)
),

-- Position in contact order minus the contacts dated before the window. Local dates never go
-- back by a week along time, so this is the window count whenever local dates do not go back
-- at all (DST changes at midnight can make them go back one day); it is never below the count,
-- and the exact count is taken below for the rows it flags.
positioned as (
    select
        *,
        row_number() over (partition by account_id order by ts, contact_id)
        - count(*) over (
            partition by account_id order by day_number
            range between unbounded preceding and $window_days preceding
        ) as upper_count
    from counted
),

flagged as (
    select *
    from positioned
    where upper_count > $cap
),

windows as (
    select
        f.contact_id,
        f.account_id,
        f.ts,
        f.local_ts,
        f.local_date,
        f.timezone,
        list(w.contact_id order by w.ts, w.contact_id) as window_ids
    from flagged as f
    inner join counted as w
        on f.account_id = w.account_id
        and w.day_number between f.day_number - ($window_days - 1) and f.day_number
        and (w.ts < f.ts or (w.ts = f.ts and w.contact_id <= f.contact_id))
    group by all
),

final as (
    select
        contact_id,
        account_id,
        $rule_id as rule_id,
        ts,
        local_ts,
        to_json({'contacts': window_ids}) as evidence,
        printf(
            'Counted %s number %d in the %d local days %s to %s (%s), more than the cap of %d.',
            $noun, len(window_ids), $window_days,
            strftime(local_date - ($window_days - 1), '%Y-%m-%d'), strftime(local_date, '%Y-%m-%d'),
            timezone, $cap
        ) as explanation
    from windows
    where len(window_ids) > $cap
)

select * from final
