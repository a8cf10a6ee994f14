-- The breach list as the Compliance page shows it: compliance_breach_list_agg.sql's rows with each breach's
-- review state, only the states asked for, the newest first, the first $limit of them (the page's table)
-- or all (null: the download). The list is ordered and cut on the aggregate table breach_facts; only the
-- rows kept are joined with breaches (explanation) and accounts (consumer, time zone). The join also matches
-- ts (breach_facts copies it): breaches are stored in ts order, so the join's filter on the kept rows' ts
-- range skips the row groups of older breaches instead of reading every breach's explanation.
-- Grain: one row per breach = (contact_id, rule_id).
-- Parameters: the shared filters $start, $end (inclusive UTC dates of the contact's ts), $portfolios,
--   $teams, $strategies (account attributes), $channels (the contact's channel); $rules (rule_ids);
--   $reviewed_contacts, $reviewed_rules, $reviewed_states (the review log's current state per breach, three
--   lists of one length); $statuses (review states, 'unreviewed' for a breach with no review); every
--   empty list = all; $contact_id (one breach contact, null = all); $limit (rows, null = all).
-- Units: local_time is the wall time in the account's timezone (text, YYYY-MM-DD HH:MM:SS).
with

reviewed as (
    select
        unnest(cast($reviewed_contacts as varchar[])) as contact_id,
        unnest(cast($reviewed_rules as varchar[])) as rule_id,
        unnest(cast($reviewed_states as varchar[])) as state
),

facts as (
    select
        f.contact_id,
        f.rule_id,
        f.account_id,
        f.ts,
        f.channel,
        f.direction,
        f.outcome,
        f.agent_id,
        coalesce(r.state, 'unreviewed') as review_state
    from breach_facts as f
    left join reviewed as r on r.contact_id = f.contact_id and r.rule_id = f.rule_id
    where chosen($rules, f.rule_id)
        and ($contact_id is null or f.contact_id = $contact_id)
        and f.day between $start and $end
        and account_chosen($portfolios, $teams, $strategies, f.portfolio, f.team, f.strategy)
        and chosen($channels, f.channel)
),

listed as (
    select *
    from facts
    where chosen($statuses, review_state)
    order by ts desc, contact_id asc, rule_id asc
    limit $limit
),

final as (
    select
        l.review_state,
        l.rule_id,
        strftime(timezone(a.timezone, l.ts), '%Y-%m-%d %H:%M:%S') as local_time,
        a.timezone,
        l.contact_id,
        l.account_id,
        a.consumer_id,
        l.channel,
        l.direction,
        l.outcome,
        l.agent_id,
        a.team,
        a.strategy,
        b.explanation,
        l.ts
    from listed as l
    inner join breaches as b on b.contact_id = l.contact_id and b.rule_id = l.rule_id and b.ts = l.ts
    inner join accounts as a on a.account_id = l.account_id
)

select * from final
order by ts desc, contact_id asc, rule_id asc
