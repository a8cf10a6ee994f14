-- Breaches of one opt_out rule on Spark (the Spark variant of queries/rule_opt_out.sql, same output):
-- contacts after an opt-out of the account.
-- Grain: one row per breaching contact (contact_id unique).
-- Reads: temp view breach_contacts (queries/spark/breach_contacts.sql), preferences.
-- Parameters: :rule_id; :scope ('channel': preferences rows whose channel is the contact's channel;
--   'all': preferences rows with channel 'all', any contact channel); :channels, :directions
--   (array<string>); account filter :vulnerable (boolean, null = any), :states, :portfolios,
--   :products, :teams, :strategies (array<string>, empty = any; state compared trimmed and upper-cased).
-- Rule: contact ts > opted_out_at, strictly (timestamps as written); the earliest qualifying
--   opt-out is the evidence.
-- Why a variant: the DuckDB query is a table macro over temp tables keyed by DuckDB's integer
--   account_key, with DuckDB's struct literals and strftime; evidence and explanation are the same text.
with

contacts as (
    select
        contact_id,
        account_id,
        ts,
        channel,
        local_ts
    from breach_contacts
    where array_contains(cast(:channels as array<string>), channel)
        and array_contains(cast(:directions as array<string>), direction)
        -- the account selector, from its one home (queries/semantic/macros.sql), inlined by analysis.spark.sql
        and rule_selects(
            :vulnerable, cast(:states as array<string>), cast(:portfolios as array<string>),
            cast(:products as array<string>), cast(:teams as array<string>), cast(:strategies as array<string>),
            vulnerable, state_code, portfolio, product, team, strategy
        )
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
        account_id,
        channel,
        min(opted_out_at) as opted_out_at
    from preferences
    where (:scope = 'all' and channel = 'all') or (:scope = 'channel' and channel != 'all')
    group by account_id, channel
),

breaching as (
    select
        c.contact_id,
        c.account_id,
        c.ts,
        c.local_ts,
        c.channel,
        o.channel as opt_out_channel,
        date_format(o.opted_out_at, "yyyy-MM-dd'T'HH:mm:ss'Z'") as opted_out_at_text
    from contacts as c
    inner join opt_outs as o
        on c.account_id = o.account_id
        and (:scope = 'all' or o.channel = c.channel)
        and c.ts > o.opted_out_at
),

final as (
    select
        contact_id,
        account_id,
        :rule_id as rule_id,
        ts,
        local_ts,
        to_json(named_struct('opt_out', named_struct('channel', opt_out_channel, 'at', opted_out_at_text)))
            as evidence,
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
