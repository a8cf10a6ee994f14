-- Macro: plan_bound_opt_out(p_rule_id, p_scope, p_channels, p_directions, p_vulnerable, p_states, p_portfolios, p_products, p_teams, p_strategies, p_new_channels)
-- The contact plan's bound from one opt_out rule: one more outbound contact on channel X breaches when
-- its ts > opted_out_at of a preferences row of the account whose channel is X (scope 'channel') or
-- 'all' (scope 'all'). So the bound is an end: the earliest such opt-out, to the whole second.
-- Grain: one row per (account with such an opt-out, channel in p_new_channels it covers).
-- Reads: temp table plan_accounts (queries/plan_accounts.sql), preferences.
-- Parameters: as rule_opt_out's (p_channels and p_directions are not used here); p_new_channels: the
--   plan's channels the rule covers for an outbound contact.
-- Columns: lo (null), hi, left_at_start and cooldown_ends (null).
with

accounts as (
    select account_key, account_id
    from plan_accounts
    where rule_selects(
            p_vulnerable, cast(p_states as varchar[]), cast(p_portfolios as varchar[]),
            cast(p_products as varchar[]), cast(p_teams as varchar[]), cast(p_strategies as varchar[]),
            vulnerable, state_code, portfolio, product, team, strategy
        )
),

new_channels as (
    select unnest(cast(p_new_channels as varchar[])) as channel
),

opt_outs as (
    select
        a.account_key,
        p.channel,
        min(p.opted_out_at) as opted_out_at
    from preferences as p
    inner join accounts as a on p.account_id = a.account_id
    where (p_scope = 'all' and p.channel = 'all') or (p_scope = 'channel' and p.channel <> 'all')
    group by a.account_key, p.channel
),

final as (
    select
        o.account_key,
        n.channel,
        p_rule_id as rule_id,
        cast(null as timestamptz) as lo,
        floor_second(o.opted_out_at) as hi,
        cast(null as bigint) as left_at_start,
        cast(null as timestamptz) as cooldown_ends
    from opt_outs as o
    inner join new_channels as n on p_scope = 'all' or o.channel = n.channel
)

select * from final
