-- The Balance page's sums per account and UTC month, so a date range's whole months are read here (one row per
-- account and month) instead of from every outbound contact; balance_groups_months.sql and
-- balance_monthly_months.sql take the part months at the range's ends from the events themselves.
-- Grain: one row per account (of accounts) x UTC calendar month with any event the page counts: an outbound
-- contact, a payment, a complaint, a survey response with an NPS, a conversation with a sentiment label.
-- Inputs: accounts, contacts, payments, complaints, surveys, the derived tables breaches and
-- conversation_sentiment. Parameters: none.
-- Units: collected in currency (the sum of the payments' amounts, exact decimal); counts otherwise; portfolio,
--   team and strategy are the account's (for the sidebar filters). Ordered by month, so a date filter skips
--   row groups.
with

accounts as (
    select a.account_id, a.portfolio, a.team, a.strategy
    from accounts as a
),

breached as (
    select distinct b.contact_id
    from breaches as b
),

contact_months as (
    select
        c.account_id,
        cast(date_trunc('month', utc_timestamp(c.ts)) as date) as month_start,
        count(*) as contacts,
        count(b.contact_id) as breach_contacts
    from contacts as c
    left join breached as b on c.contact_id = b.contact_id
    where c.direction = 'outbound'
    group by all
),

payment_months as (
    select
        p.account_id,
        cast(date_trunc('month', utc_timestamp(p.paid_at)) as date) as month_start,
        sum(p.amount) as collected
    from payments as p
    group by all
),

complaint_months as (
    select
        k.account_id,
        cast(date_trunc('month', utc_timestamp(k.received_at)) as date) as month_start,
        count(*) as complaints
    from complaints as k
    group by all
),

survey_months as (
    select
        s.account_id,
        cast(date_trunc('month', utc_timestamp(s.responded_at)) as date) as month_start,
        count(*) filter (where nps_band(s.nps) = 'promoter') as promoters,
        count(*) filter (where nps_band(s.nps) = 'passive') as passives,
        count(*) filter (where nps_band(s.nps) = 'detractor') as detractors
    from surveys as s
    where s.nps is not null
    group by all
),

conversation_months as (
    select
        v.account_id,
        cast(date_trunc('month', utc_timestamp(v.started_at)) as date) as month_start,
        count(*) as conversations_scored,
        count(*) filter (where v.label = 'negative') as conversations_negative
    from conversation_sentiment as v
    where v.label is not null
    group by all
),

months as (
    select * from contact_months
    union all by name
    select * from payment_months
    union all by name
    select * from complaint_months
    union all by name
    select * from survey_months
    union all by name
    select * from conversation_months
),

summed as (
    -- each source has at most one row per account and month, so max() takes its value (no sums needed)
    select
        m.account_id,
        m.month_start,
        max(m.contacts) as contacts,
        max(m.breach_contacts) as breach_contacts,
        max(m.collected) as collected,
        max(m.complaints) as complaints,
        max(m.promoters) as promoters,
        max(m.passives) as passives,
        max(m.detractors) as detractors,
        max(m.conversations_scored) as conversations_scored,
        max(m.conversations_negative) as conversations_negative
    from months as m
    group by m.account_id, m.month_start
),

final as (
    select
        m.account_id,
        m.month_start,
        a.portfolio,
        a.team,
        a.strategy,
        cast(coalesce(m.contacts, 0) as bigint) as contacts,
        cast(coalesce(m.breach_contacts, 0) as bigint) as breach_contacts,
        coalesce(m.collected, 0) as collected,
        cast(coalesce(m.complaints, 0) as bigint) as complaints,
        cast(coalesce(m.promoters, 0) as bigint) as promoters,
        cast(coalesce(m.passives, 0) as bigint) as passives,
        cast(coalesce(m.detractors, 0) as bigint) as detractors,
        cast(coalesce(m.conversations_scored, 0) as bigint) as conversations_scored,
        cast(coalesce(m.conversations_negative, 0) as bigint) as conversations_negative
    from summed as m
    inner join accounts as a on m.account_id = a.account_id
)

select * from final
order by month_start, account_id
