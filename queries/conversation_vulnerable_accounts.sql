-- One row per account with a vulnerability cue in the customer's words in a conversation in the filters.
-- Grain: one row per account (account_id unique) with a cue in a conversation in the filters.
-- drivers/cues: distinct FCA drivers and cue names found; conversations: conversations flagged;
-- last_flagged_at: latest flagged conversation's start; already_vulnerable: the account's vulnerable flag.
-- Parameters: $start, $end (UTC dates, inclusive), $portfolios, $teams, $channels, $strategies; $limit (rows, null =
--   all: the page lists the latest flagged, its download all). flagged_total: accounts before the limit, on each row.
with flags as (
    select conversation_id, account_id, driver, cue from vulnerability_flags
),

conversations as (
    select conversation_id, channel, started_at, agent_id from conversations
),

accounts as (
    select account_id, portfolio, team, strategy, vulnerable from accounts
),

in_scope as (
    select f.*, c.started_at, a.team, coalesce(a.vulnerable, false) as vulnerable
    from flags as f
    inner join conversations as c on c.conversation_id = f.conversation_id
    left join accounts as a on a.account_id = f.account_id
    where utc_day_between(c.started_at, $start, $end)
        and chosen($portfolios, a.portfolio)
        and chosen($teams, a.team)
        and chosen($channels, c.channel)
        and chosen($strategies, a.strategy)
),

flagged as (
    select
        account_id,
        any_value(team) as team,
        string_agg(distinct driver, ', ' order by driver) as drivers,
        string_agg(distinct cue, ', ' order by cue) as cues,
        count(distinct conversation_id) as conversations,
        max(started_at) as last_flagged_at,
        bool_or(vulnerable) as already_vulnerable
    from in_scope
    group by account_id
),

final as (
    select
        *,
        count(*) over () as flagged_total
    from flagged
)

select * from final
order by last_flagged_at desc, account_id asc
limit $limit
