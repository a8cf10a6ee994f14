-- The newest event timestamp in the data, as ISO 8601 UTC text ('2026-03-08T14:05:00Z'); NULL when
-- there are no events. Parameters: none. Events: contacts, consents, preferences,
-- conversations, surveys, complaints (received and resolved), payments, promises (created).
-- Grain: one row.
with events as (
    select max(ts) as event_at from contacts
    union all
    select max(given_at) as event_at from consents
    union all
    select max(opted_out_at) as event_at from preferences
    union all
    select max(started_at) as event_at from conversations
    union all
    select max(responded_at) as event_at from surveys
    union all
    select max(received_at) as event_at from complaints
    union all
    select max(resolved_at) as event_at from complaints
    union all
    select max(paid_at) as event_at from payments
    union all
    select max(created_at) as event_at from promises
),

final as (
    select strftime(timezone('UTC', max(event_at)), '%Y-%m-%dT%H:%M:%SZ') as data_as_of
    from events
)

select * from final
