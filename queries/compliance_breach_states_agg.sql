-- How many breaches of compliance_breach_list_agg.sql's rows are in each review state: the Compliance
-- page's counts, without reading the list. Read from the aggregate table breach_facts.
-- Grain: one row per review state that a listed breach is in ('unreviewed': no review in the log).
-- Parameters: the shared filters $start, $end (inclusive UTC dates of the contact's ts), $portfolios,
--   $teams, $strategies (account attributes), $channels (the contact's channel); $rules (rule_ids);
--   $reviewed_contacts, $reviewed_rules, $reviewed_states (the review log's current state per breach, three
--   lists of one length); every empty list = all.
-- Units: breaches = (contact, rule) pairs.
with

reviewed as (
    select
        unnest(cast($reviewed_contacts as varchar[])) as contact_id,
        unnest(cast($reviewed_rules as varchar[])) as rule_id,
        unnest(cast($reviewed_states as varchar[])) as state
),

final as (
    select
        coalesce(r.state, 'unreviewed') as review_state,
        count(*) as breaches
    from breach_facts as f
    left join reviewed as r on r.contact_id = f.contact_id and r.rule_id = f.rule_id
    where chosen($rules, f.rule_id)
        and f.day between $start and $end
        and account_chosen($portfolios, $teams, $strategies, f.portfolio, f.team, f.strategy)
        and chosen($channels, f.channel)
    group by all
)

select * from final
order by review_state
