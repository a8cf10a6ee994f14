-- Contacts counted at the grain the sidebar filters need, for the Compliance page's denominators and offenders.
-- Grain: one row per UTC day of ts x the account's portfolio, team, strategy x channel x direction x agent_id
--   (with the agent's own team), for every combination with at least one contact.
-- Inputs: contacts, accounts (inner: a contact's account exists), agents, the derived table breaches.
-- No parameters. Units: contacts = contacts; breaches = (contact, rule) pairs presumed in breach on them;
--   breach_contacts = contacts with at least one. Ordered by day, so a date filter skips row groups.
with

breach_counts as (
    select contact_id, count(*) as breaches
    from breaches
    group by contact_id
),

final as (
    select
        cast(utc_timestamp(c.ts) as date) as day,
        a.portfolio,
        a.team,
        a.strategy,
        c.channel,
        c.direction,
        c.agent_id,
        ag.team as agent_team,
        count(*) as contacts,
        cast(coalesce(sum(b.breaches), 0) as bigint) as breaches,
        count(b.contact_id) as breach_contacts
    from contacts as c
    inner join accounts as a on a.account_id = c.account_id
    left join agents as ag on ag.agent_id = c.agent_id
    left join breach_counts as b on b.contact_id = c.contact_id
    group by all
)

select * from final
order by day, portfolio, team, strategy, channel, direction, agent_id
