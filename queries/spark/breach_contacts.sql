-- Contacts prepared for the Spark rule queries (the Spark variant of queries/breach_contacts.sql and
-- of the consent part of queries/breach_counted.sql): one row per contact of a known account, with its
-- wall times in the account's timezone and phone_timezone and the consents that may cover it.
-- Grain: one row per contact (contact_id unique). Parameters: none.
-- Reads: accounts, contacts, consents (temp views of analysis.spark.tables).
-- Columns: the contact's, its account's timezone, phone_timezone and the attributes rules select
--   accounts by (vulnerable, state_code trimmed and upper-cased, portfolio, product, team, strategy),
--   so that every rule query reads this one view, partitioned by account (no join to accounts).
-- Units: ts an instant; local_ts / phone_local_ts the wall time in the account's timezone / its
--   phone_timezone (null when not given), as a timestamp whose UTC reading is that wall time (the
--   session time zone is UTC), from from_utc_timestamp (the JVM's tz database); day_number = the local date - 1970-01-01 in days;
--   latest_consent_day = the latest local day_number of the account's consents given at or before
--   ts (null: none), so a contact is in some consent window iff
--   day_number <= latest_consent_day + consent_window_days - 1 (DECISIONS.md "Contact rules").
-- Why a variant: DuckDB converts zones through a table of offsets per UTC day and finds the consent
--   with an asof join; Spark SQL has neither, and sqlglot cannot rewrite one into the other.
with

accounts as (
    select
        account_id,
        timezone,
        phone_timezone,
        vulnerable,
        upper(trim(state)) as state_code,
        portfolio,
        product,
        team,
        strategy
    from accounts
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

localised as (
    select
        c.contact_id,
        c.account_id,
        c.ts,
        c.channel,
        c.direction,
        c.outcome,
        a.timezone,
        a.phone_timezone,
        a.vulnerable,
        a.state_code,
        a.portfolio,
        a.product,
        a.team,
        a.strategy,
        from_utc_timestamp(c.ts, a.timezone) as local_ts,
        case
            when a.phone_timezone is not null then from_utc_timestamp(c.ts, a.phone_timezone)
        end as phone_local_ts
    from contacts as c
    inner join accounts as a on c.account_id = a.account_id
),

-- Contacts and consents of each account in one stream by instant: a contact's latest consent day is
-- the largest local day of the consents at or before its instant (ties included: ts >= given_at).
stream as (
    select
        contact_id,
        account_id,
        ts,
        channel,
        direction,
        outcome,
        timezone,
        phone_timezone,
        vulnerable,
        state_code,
        portfolio,
        product,
        team,
        strategy,
        local_ts,
        phone_local_ts,
        cast(null as int) as consent_day
    from localised
    union all
    select
        cast(null as string) as contact_id,
        g.account_id,
        g.given_at as ts,
        cast(null as string) as channel,
        cast(null as string) as direction,
        cast(null as string) as outcome,
        cast(null as string) as timezone,
        cast(null as string) as phone_timezone,
        cast(null as boolean) as vulnerable,
        cast(null as string) as state_code,
        cast(null as string) as portfolio,
        cast(null as string) as product,
        cast(null as string) as team,
        cast(null as string) as strategy,
        cast(null as timestamp) as local_ts,
        cast(null as timestamp) as phone_local_ts,
        datediff(to_date(from_utc_timestamp(g.given_at, a.timezone)), date '1970-01-01') as consent_day
    from consents as g
    inner join accounts as a on g.account_id = a.account_id
),

covered as (
    select
        *,
        max(consent_day) over (
            partition by account_id order by unix_micros(ts)
            range between unbounded preceding and current row
        ) as latest_consent_day
    from stream
),

final as (
    select
        contact_id,
        account_id,
        ts,
        channel,
        direction,
        outcome,
        timezone,
        phone_timezone,
        vulnerable,
        state_code,
        portfolio,
        product,
        team,
        strategy,
        local_ts,
        phone_local_ts,
        datediff(to_date(local_ts), date '1970-01-01') as day_number,
        latest_consent_day
    from covered
    where contact_id is not null
)

select * from final
