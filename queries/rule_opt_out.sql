-- Macro: rule_opt_out(p_channels, p_directions, p_portfolios, p_products, p_rule_id, p_scope, p_states, p_strategies, p_teams, p_vulnerable)
-- Breaches of one opt_out rule: contacts after an opt-out of the account.
-- Grain: one row per breaching contact (contact_id unique).
-- Reads: temp tables breach_contacts (queries/breach_contacts.sql) and breach_accounts
--   (queries/breach_accounts.sql), preferences.
-- Parameters: p_rule_id; p_scope ('channel': preferences rows whose channel is the contact's channel;
--   'all': preferences rows with channel 'all', any contact channel); p_channels, p_directions (varchar
--   lists); account filter p_vulnerable, p_states, p_portfolios, p_products, p_teams, p_strategies (as in
--   rule_cooldown_after_event).
-- Rule: contact ts > opted_out_at, strictly (timestamps as written); the earliest qualifying
--   opt-out is the evidence.
with

accounts as (
    select
        account_key,
        account_id
    from breach_accounts
    where rule_selects(
            p_vulnerable, p_states::varchar[], p_portfolios::varchar[], p_products::varchar[], p_teams::varchar[],
            p_strategies::varchar[], vulnerable, state_code, portfolio, product, team, strategy
        )
),

contacts as (
    select
        contact_id,
        account_key,
        ts,
        channel,
        direction,
        local_ts
    from breach_contacts
),

preferences as (
    select
        account_id,
        channel,
        opted_out_at
    from preferences
),

opt_outs as (
    select
        a.account_key,
        any_value(a.account_id) as account_id,
        p.channel,
        min(p.opted_out_at) as opted_out_at
    from preferences as p
    inner join accounts as a on p.account_id = a.account_id
    where (p_scope = 'all' and p.channel = 'all') or (p_scope = 'channel' and p.channel <> 'all')
    group by a.account_key, p.channel
),

breaching as (
    select
        c.contact_id,
        o.account_id,
        c.ts,
        c.local_ts,
        c.channel,
        o.channel as opt_out_channel,
        strftime(make_timestamp(epoch_us(o.opted_out_at)), '%Y-%m-%dT%H:%M:%SZ') as opted_out_at_text
    from contacts as c
    inner join opt_outs as o
        on c.account_key = o.account_key
        and (p_scope = 'all' or o.channel = c.channel)
        and c.ts > o.opted_out_at
    where list_contains(p_channels::varchar[], c.channel)
        and list_contains(p_directions::varchar[], c.direction)
),

final as (
    select
        contact_id,
        account_id,
        p_rule_id as rule_id,
        ts,
        local_ts,
        to_json({'opt_out': {'channel': opt_out_channel, 'at': opted_out_at_text}}) as evidence,
        case
            when opt_out_channel = 'all'
                then
                    concat(
                        'Outbound ', channel, ' after the written request to cease communication of ',
                        opted_out_at_text, '.'
                    )
            else
                concat(
                    'Outbound ', channel, ' after the consumer opted out of ', opt_out_channel, ' on ',
                    opted_out_at_text, '.'
                )
        end as explanation
    from breaching
)

select * from final
