-- The UTC date of the data's first event that the propensity features read: contacts, payments,
-- promises (created), conversations (started). NULL when there is none.
-- Grain: one row.
-- Reads: contacts, payments, promises, conversations. No parameters.
with

events as (
    select min(c.ts) as event_at from contacts as c
    union all
    select min(p.paid_at) as event_at from payments as p
    union all
    select min(pr.created_at) as event_at from promises as pr
    union all
    select min(cv.started_at) as event_at from conversations as cv
),

final as (
    select cast(utc_timestamp(min(e.event_at)) as date) as first_day
    from events as e
)

select * from final
