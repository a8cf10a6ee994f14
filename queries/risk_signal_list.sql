-- The list of risk signals (not breaches) with the account's attributes.
-- Grain: one row per risk_signals row.
-- Parameters: the shared filters $start, $end (inclusive UTC dates of ts), $portfolios, $teams,
--   $strategies (account attributes), $channels (signals are about placed calls: a channel filter
--   without 'call' leaves none); $signals (signal names); empty list = all; $limit (rows, null = all:
--   the page's table takes the newest ui.SHOWN_ROWS, the download all).
-- Units: ts is the instant; local_time the wall time in the account's timezone (text).
with

signals as (
    select signal, account_id, consumer_id, contact_id, agent_id, ts, detail
    from risk_signals
    where chosen($signals, signal)
),

accounts as (
    select account_id, timezone, portfolio, team, strategy
    from accounts
),

final as (
    select
        s.signal,
        s.contact_id,
        s.account_id,
        s.consumer_id,
        s.ts,
        strftime(timezone(a.timezone, s.ts), '%Y-%m-%d %H:%M:%S') as local_time,
        s.agent_id,
        a.team,
        a.strategy,
        a.portfolio,
        s.detail
    from signals as s
    inner join accounts as a on a.account_id = s.account_id
    where utc_day_between(s.ts, $start, $end)
        and account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
        and chosen($channels, 'call')
)

select * from final
order by ts desc, signal asc, contact_id asc
limit $limit
