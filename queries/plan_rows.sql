-- The contact plan for a date: open accounts ranked, one row per account and channel offered.
-- Grain: one row per (account, channel) with headroom on the date (rank unique, 1..N).
-- Reads: accounts; frames registered by analysis.plan.build: plan_scores (analysis.propensity.score: account_id,
--   propensity, balance, expected_collection; the open accounts), plan_room (analysis.plan.headroom's
--   temporary table on the same cursor),
--   plan_reach (analysis.plan.reach: reach_rate, hours ranked), plan_specialists
--   (queries/plan_specialist.sql).
-- Parameters: $ranking ('expected' = propensity x balance, 'propensity' or 'balance'; ties by
--   account_id); $channels (varchar list: the plan's channels in their default order).
-- Columns: account_rank (the account's place); rank (the row's: accounts in order, each account's channels
--   by reach rate); best_local_hour: the best-reaching local hour that meets the window (else the window's
--   first hour); queue 'specialist' for accounts flagged vulnerable, with a vulnerability cue or an open
--   complaint, else 'dialer'; reasons: why specialist, and which rules set the window's ends.
with

scores as (
    select account_id, propensity, balance, expected_collection from plan_scores
),

-- The window's first and last local hours, once per row: inside the lambda below they were converted
-- again for every hour of the list (13 time zone conversions a row instead of 2).
room as (
    select
        account_id, channel, contact_from, contact_until, timezone, calls_left, caps, cooldown_ends, from_rule,
        until_rule,
        hour(timezone(timezone, contact_from)) as from_hour,
        hour(timezone(timezone, contact_until)) as until_hour
    from plan_room
    where offered
),

accounts as (
    select account_id, team, portfolio, strategy, state from accounts
),

reach as (
    select account_id, channel, reach_rate, hours from plan_reach
),

specialists as (
    select account_id, vulnerable, cues, open_complaints from plan_specialists
),

ranked_accounts as (
    select
        s.*,
        row_number() over (
            order by
                case $ranking
                    when 'propensity' then s.propensity
                    when 'balance' then s.balance
                    else s.expected_collection
                end desc,
                s.account_id
        ) as account_rank
    from scores as s
    semi join room as r on s.account_id = r.account_id
),

offered as (
    select
        a.account_rank,
        a.account_id,
        r.channel,
        a.propensity,
        a.balance,
        a.expected_collection,
        r.contact_from,
        r.contact_until,
        -- the lambda's parameter is no table's column
        coalesce(
            list_filter(h.hours, lambda x: x between r.from_hour and r.until_hour)[1],  -- noqa: RF02
            r.from_hour
        ) as best_local_hour,
        coalesce(h.reach_rate, 0) as reach_rate,
        r.timezone,
        r.calls_left,
        r.caps,
        r.cooldown_ends,
        r.from_rule,
        r.until_rule,
        ac.team,
        ac.portfolio,
        ac.strategy,
        upper(trim(ac.state)) as state,
        sp.account_id is not null as is_specialist,
        concat_ws(
            '; ',
            case when sp.vulnerable then 'flagged vulnerable' end,
            case when sp.cues is not null then 'vulnerability cue: ' || sp.cues end,
            case when sp.open_complaints > 0 then sp.open_complaints || ' open complaint(s)' end
        ) as specialist_reasons
    from ranked_accounts as a
    inner join room as r on a.account_id = r.account_id
    left join reach as h on r.account_id = h.account_id and r.channel = h.channel
    left join specialists as sp on a.account_id = sp.account_id
    inner join accounts as ac on a.account_id = ac.account_id
),

final as (
    select
        row_number() over (
            order by o.account_rank asc, o.reach_rate desc, list_position($channels::varchar[], o.channel) asc
        ) as rank,
        o.account_id,
        o.channel,
        o.propensity,
        o.contact_from,
        o.contact_until,
        o.best_local_hour,
        o.account_rank,
        case when o.is_specialist then 'specialist' else 'dialer' end as queue,
        o.balance,
        o.expected_collection,
        o.reach_rate,
        cast(timezone(o.timezone, o.contact_from) as date) as local_date,
        o.timezone,
        strftime(timezone(o.timezone, o.contact_from), '%H:%M:%S') || '-'
        || strftime(timezone(o.timezone, o.contact_until), '%H:%M:%S') as local_window,
        o.calls_left,
        o.caps,
        o.cooldown_ends,
        concat_ws(
            '; ',
            nullif(o.specialist_reasons, ''),
            'from ' || o.from_rule,
            'until ' || o.until_rule
        ) as reasons,
        o.team,
        o.portfolio,
        o.strategy,
        o.state
    from offered as o
)

select * from final
order by rank
