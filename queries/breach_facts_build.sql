-- Presumed breaches with the contact's and the account's attributes, so that the Compliance page's
-- counts, trend and list filter one table instead of joining the contacts.
-- Grain: one row per breach (contact_id, rule_id) whose contact and account exist.
-- Inputs: the derived table breaches, contacts, accounts, agents. No parameters.
-- Units: ts the breach's instant; day its UTC calendar date; agent_team the contact's agent's team.
--   Ordered by day, so a date filter skips row groups.
with

final as (
    select
        b.contact_id,
        b.rule_id,
        b.account_id,
        b.ts,
        cast(utc_timestamp(b.ts) as date) as day,
        c.channel,
        c.direction,
        c.outcome,
        c.agent_id,
        c.duration_s,
        a.portfolio,
        a.team,
        a.strategy,
        ag.team as agent_team
    from breaches as b
    inner join contacts as c on c.contact_id = b.contact_id
    inner join accounts as a on a.account_id = b.account_id
    left join agents as ag on ag.agent_id = c.agent_id
)

select * from final
order by day, contact_id, rule_id
