-- Risk signals (not breaches) counted per signal and month.
-- Grain: one row per signal x month (first day of the UTC calendar month of the signal's ts).
-- Parameters: the shared filters $start, $end (inclusive UTC dates of ts), $portfolios, $teams,
--   $strategies (account attributes), $channels (every signal is about placed calls, so a channel
--   filter without 'call' leaves none).
-- Units: signals = rows of risk_signals; accounts, consumers = distinct counts among them.
with

signals as (
    select signal, account_id, consumer_id, ts
    from risk_signals
),

accounts as (
    select account_id, portfolio, team, strategy
    from accounts
),

filtered as (
    select
        s.signal,
        s.account_id,
        s.consumer_id,
        cast(date_trunc('month', utc_timestamp(s.ts)) as date) as month
    from signals as s
    inner join accounts as a on a.account_id = s.account_id
    where utc_day_between(s.ts, $start, $end)
        and account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
        and chosen($channels, 'call')
),

final as (
    select
        signal,
        month,
        count(*) as signals,
        count(distinct account_id) as accounts,
        count(distinct consumer_id) as consumers
    from filtered
    group by signal, month
)

select * from final
order by month, signal
