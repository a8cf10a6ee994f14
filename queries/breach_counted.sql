-- Counted contacts for the windowed_cap and cooldown_after_event rules that share these parameters
-- (SPEC section 2: a placed call whose outcome is not busy or not_connected and that is not in a
-- consent window, for the default rules).
-- Grain: one row per counted contact (contact_id unique).
-- Reads: temp tables breach_contacts (queries/breach_contacts.sql) and breach_accounts
--   (queries/breach_accounts.sql), consents.
-- Parameters: $channels, $directions, $outcomes_excluded (varchar lists); $consent_exclusion (bool);
--   $consent_window_days (int): a consent given at G covers contacts with ts >= G and
--   d(c) <= d(G) + $consent_window_days - 1, d() the local date in the account's timezone.
-- Units: day_number = local date - 1970-01-01 in days, as in breach_contacts.
with

accounts as (
    select
        account_key,
        account_id,
        timezone
    from breach_accounts
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

consents as (
    select
        account_id,
        given_at
    from consents
),

candidates as (
    select
        contact_id,
        account_key,
        ts,
        local_ts,
        day_number
    from contacts
    where list_contains($channels::varchar[], channel)
        and list_contains($directions::varchar[], direction)
        and (outcome is null or not list_contains($outcomes_excluded::varchar[], outcome))
),

-- For each consent, the latest local date of any consent of the account given at or before it: a
-- contact is in some consent window iff it is in the window of that latest-dated consent.
consent_days as (
    select
        a.account_key,
        g.given_at,
        max(cast(timezone(a.timezone, g.given_at) as date) - date '1970-01-01') over (
            partition by a.account_key order by g.given_at
            range between unbounded preceding and current row
        ) as latest_consent_day
    from consents as g
    inner join accounts as a on g.account_id = a.account_id
    where $consent_exclusion
),

covered as (
    select p.contact_id
    from candidates as p
    semi join consent_days as d on p.account_key = d.account_key
    asof inner join consent_days as g
        on p.account_key = g.account_key and p.ts >= g.given_at
    where p.day_number <= g.latest_consent_day + ($consent_window_days - 1)
),

final as (
    select p.*
    from candidates as p
    anti join covered as c on p.contact_id = c.contact_id
)

select * from final
