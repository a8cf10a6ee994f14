-- Counted contacts for the windowed_cap and cooldown_after_event rules that share these parameters
-- (SPEC section 2: a placed call whose outcome is not busy or not_connected and that is not in a
-- consent window, for the default rules).
-- Grain: one row per counted contact (contact_id unique).
-- Reads: temp table breach_contacts (queries/breach_contacts.sql), accounts, consents.
-- Parameters: $channels, $directions, $outcomes_excluded (varchar lists); $consent_exclusion (bool);
--   $consent_window_days (int): a consent given at G covers contacts with ts >= G and
--   d(c) <= d(G) + $consent_window_days - 1, d() the local date in the account's timezone.
with

accounts as (
    select
        account_id,
        timezone
    from accounts
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
        local_date,
        day_number
    from breach_contacts
),

consents as (
    select
        account_id,
        given_at
    from consents
),

candidates as (
    select
        contact_id,
        account_id,
        account_key,
        ts,
        local_ts,
        local_date,
        day_number
    from contacts
    where list_contains($channels::varchar[], channel)
        and list_contains($directions::varchar[], direction)
        and (outcome is null or not list_contains($outcomes_excluded::varchar[], outcome))
),

-- For each consent, the latest local date of any consent of the account given at or before it: a
-- contact is in some consent window iff it is in the window of that latest-dated consent.
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

covered as (
    select p.contact_id
    from candidates as p
    semi join consent_dates as d on p.account_id = d.account_id
    asof inner join consent_dates as g
        on p.account_id = g.account_id and p.ts >= g.given_at
    where p.local_date <= g.latest_consent_date + ($consent_window_days - 1)
),

final as (
    select p.*
    from candidates as p
    anti join covered as c on p.contact_id = c.contact_id
)

select * from final
