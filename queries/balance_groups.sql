-- Recovery against experience per group: the sums behind every figure of the Balance page.
-- Grain: one row per group ($by: team | strategy | agent). Team and strategy are the account's; an account's
-- agent is the one who made most of its outbound contacts in the range (ties: lowest agent_id), "(no agent)"
-- without any; surveys and conversations carry their own agent when given.
-- Parameters: $by, shared filters $start $end (UTC dates of each event) $portfolios $teams $strategies.
-- Inputs besides the contract tables: the derived tables breaches and conversation_sentiment
-- (analysis/schema.py DERIVED; empty before their pipeline steps have run).
-- Units: currency for amounts; counts otherwise; *_sq and *_x_* are per-account sums of squares and
-- products, for the ratio estimators' standard errors (Python).
with

accounts as (
    select a.account_id, a.placed_balance, a.team, a.strategy
    from accounts as a
    where account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
        and a.placed_date <= $end
),

outbound as (
    select c.contact_id, c.account_id, c.agent_id
    from contacts as c
    inner join accounts as a on c.account_id = a.account_id
    where c.direction = 'outbound' and utc_day_between(c.ts, $start, $end)
),

agent_rank as (
    select
        account_id,
        agent_id,
        row_number() over (partition by account_id order by count(*) desc, agent_id) as rank_in_account
    from outbound
    where agent_id is not null
    group by account_id, agent_id
),

account_group as (
    select
        a.account_id,
        a.placed_balance,
        coalesce(case $by
            when 'team' then a.team
            when 'strategy' then a.strategy
            else r.agent_id
        end, case when $by = 'agent' then '(no agent)' else '(none)' end) as grp
    from accounts as a
    left join agent_rank as r on a.account_id = r.account_id and r.rank_in_account = 1
),

paid as (
    select p.account_id, sum(p.amount) as collected
    from payments as p
    where utc_day_between(p.paid_at, $start, $end)
    group by p.account_id
),

contacted as (
    select account_id, count(*) as contacts
    from outbound
    group by account_id
),

breached as (
    select o.account_id, count(distinct o.contact_id) as breach_contacts
    from outbound as o
    semi join breaches as b on o.contact_id = b.contact_id
    group by o.account_id
),

complained as (
    select k.account_id, count(*) as complaints
    from complaints as k
    where utc_day_between(k.received_at, $start, $end)
    group by k.account_id
),

per_account as (
    select
        g.grp,
        g.account_id,
        g.placed_balance,
        coalesce(p.collected, 0) as collected,
        coalesce(c.contacts, 0) as contacts,
        coalesce(b.breach_contacts, 0) as breach_contacts,
        coalesce(k.complaints, 0) as complaints
    from account_group as g
    left join paid as p on g.account_id = p.account_id
    left join contacted as c on g.account_id = c.account_id
    left join breached as b on g.account_id = b.account_id
    left join complained as k on g.account_id = k.account_id
),

account_figures as (
    select
        grp,
        count(*) as accounts,
        sum(placed_balance) as placed_balance,
        sum(collected) as collected_amount,
        sum(contacts) as contacts_made,
        sum(breach_contacts) as breach_contacts,
        sum(complaints) as complaints,
        sum(cast(placed_balance as double) ^ 2) as placed_sq,
        sum(cast(collected as double) ^ 2) as collected_sq,
        sum(cast(collected as double) * cast(placed_balance as double)) as collected_x_placed,
        sum(cast(contacts as double) ^ 2) as contacts_sq,
        sum(cast(collected as double) * contacts) as collected_x_contacts
    from per_account
    group by grp
),

surveys as (
    select
        coalesce(case when $by = 'agent' then s.agent_id end, g.grp) as grp,
        s.nps
    from surveys as s
    inner join account_group as g on s.account_id = g.account_id
    where utc_day_between(s.responded_at, $start, $end) and s.nps is not null
),

survey_figures as (
    select
        grp,
        count(*) filter (where nps_band(nps) = 'promoter') as promoters,
        count(*) filter (where nps_band(nps) = 'passive') as passives,
        count(*) filter (where nps_band(nps) = 'detractor') as detractors
    from surveys
    group by grp
),

conversations as (
    select
        coalesce(case when $by = 'agent' then v.agent_id end, g.grp) as grp,
        v.label
    from conversation_sentiment as v
    inner join account_group as g on v.account_id = g.account_id
    where utc_day_between(v.started_at, $start, $end)
        and v.label is not null
),

conversation_figures as (
    select
        grp,
        count(*) as conversations_scored,
        count(*) filter (where label = 'negative') as conversations_negative
    from conversations
    group by grp
),

groups as (
    select grp from account_figures
    union
    select grp from survey_figures
    union
    select grp from conversation_figures
),

final as (
    select
        gr.grp as group_name,
        coalesce(a.accounts, 0) as accounts,
        coalesce(a.placed_balance, 0) as placed_balance,
        coalesce(a.collected_amount, 0) as collected_amount,
        coalesce(a.contacts_made, 0) as contacts_made,
        coalesce(a.breach_contacts, 0) as breach_contacts,
        coalesce(a.complaints, 0) as complaints,
        coalesce(a.placed_sq, 0) as placed_sq,
        coalesce(a.collected_sq, 0) as collected_sq,
        coalesce(a.collected_x_placed, 0) as collected_x_placed,
        coalesce(a.contacts_sq, 0) as contacts_sq,
        coalesce(a.collected_x_contacts, 0) as collected_x_contacts,
        coalesce(s.promoters, 0) as promoters,
        coalesce(s.passives, 0) as passives,
        coalesce(s.detractors, 0) as detractors,
        coalesce(v.conversations_scored, 0) as conversations_scored,
        coalesce(v.conversations_negative, 0) as conversations_negative
    from groups as gr
    left join account_figures as a on gr.grp = a.grp
    left join survey_figures as s on gr.grp = s.grp
    left join conversation_figures as v on gr.grp = v.grp
)

select * from final
order by group_name
