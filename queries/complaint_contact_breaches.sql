-- Complaints about contact next to the presumed breaches on the same account in the 30 days before:
-- one row per contact-related complaint received in the filter range, newest first.
-- Grain: one row per contact-related complaint received in the filter range (complaint_id unique).
-- Needs the derived table breaches(contact_id, account_id, rule_id, ts, ...) (compliance pipeline step).
-- Parameters: $contact_pattern (regular expression matched against lower-cased category, issue and
--   sub_issue); $tz; shared filters $start, $end (dates in $tz, inclusive), $portfolios, $teams, $strategies.
-- Units: breaches_30d = (contact, rule) breach pairs with received_at - 30 x 86,400 s <= ts < received_at;
--   rules = the distinct rule_ids among them, comma-separated.
with complaints as (
    select * from complaints
),

accounts as (
    select account_id, portfolio, team, strategy from accounts
),

scoped as (
    select c.*, a.portfolio, a.team, a.strategy
    from complaints as c
    left join accounts as a on a.account_id = c.account_id
    where account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
),

breaches as (
    select account_id, contact_id, rule_id, ts from breaches
),

contact_complaints as (
    select
        complaint_id, account_id, received_at, coalesce(source, 'consumer') as source,
        category, issue, sub_issue, team
    from scoped
    where regexp_matches(lower(concat_ws(' ', category, issue, sub_issue)), $contact_pattern)
        and cast(timezone($tz, received_at) as date) between $start and $end
),

final as (
    select
        c.complaint_id,
        c.account_id,
        c.received_at,
        c.source,
        c.category,
        c.issue,
        c.sub_issue,
        c.team,
        count(b.rule_id) as breaches_30d,
        count(distinct b.contact_id) as breached_contacts_30d,
        coalesce(string_agg(distinct b.rule_id, ', ' order by b.rule_id), '') as rules
    from contact_complaints as c
    left join breaches as b
        on b.account_id = c.account_id
        and b.ts < c.received_at
        and b.ts >= c.received_at - to_seconds(30 * 86400)
    group by all
)

select * from final
order by received_at desc, complaint_id asc
