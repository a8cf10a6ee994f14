-- Best hour and channel to reach each open account (issue 24): per channel, how often the account's outbound
-- contacts reached the consumer, per local hour, from its own history shrunk toward its segment's
-- (portfolio x state) and the segment's toward the whole firm's (empirical Bayes, DECISIONS.md
-- "Best hour and channel (issue 24)").
-- Grain: one row per open account at $as_of x channel of $channels.
-- Reads: accounts, contacts, payments; only timestamps < $until ($as_of 00:00 UTC), contacts and payments
--   from $since on (the look-back; open balances read every payment before $until).
-- Parameters: $as_of (date), $until, $since, $sent_before ($until - $response_hours) (UTC instants, given
--   rather than computed here: DuckDB 2.0 runs the ASOF join ~100x slower when they come from a CTE or subquery),
--   $channels (list: 'call' and message channels), $hours (the local hours ranked), $response_hours,
--   $k_min, $k_max (bounds of the prior's pseudo-attempts).
-- Units: an attempt on call is a placed call, reached when it is a right-party conversation; on another
--   channel an outbound message sent before $sent_before, reached when the account's next inbound contact
--   (any channel) or payment (amount > 0) comes within $response_hours after it. Local hour
--   in the account's timezone. reach_rate and the hour rates are shrunk estimates, (reached + k x prior) /
--   (attempts + k), computed here because the hours are ranked by them; k per channel and level from the
--   spread of the rates (method of moments of a beta-binomial), within [$k_min, $k_max]. hours: $hours
--   ranked best first (ties: earlier first); rates are null only where the firm has no attempt on the channel.
with

channels as (
    select unnest(cast($channels as varchar[]))::varchar as channel
),

hours as (
    select unnest(cast($hours as integer[]))::integer as local_hour
),

accounts_in as (
    select
        a.account_id,
        a.timezone,
        a.placed_date,
        a.placed_balance,
        coalesce(a.portfolio, '') as portfolio,
        coalesce(a.state, '') as state
    from accounts as a
),

paid as (
    select p.account_id, sum(p.amount) as paid_amount
    from payments as p
    where p.paid_at < $until
    group by p.account_id
),

open_accounts as (
    select a.account_id, a.portfolio, a.state
    from accounts_in as a
    left join paid as p on a.account_id = p.account_id
    where is_open_account(a.placed_date, a.placed_balance, p.paid_amount, $as_of)
),

recent as (
    select c.account_id, c.ts, c.channel, c.direction, c.outcome
    from contacts as c
    where c.ts >= $since and c.ts < $until
),

calls as (
    select r.account_id, r.ts, r.channel, is_right_party(r.channel, r.outcome) as reached
    from recent as r
    where is_placed_call(r.channel, r.direction)
        and list_contains(cast($channels as varchar[]), 'call')
),

messages as (
    select r.account_id, r.ts, r.channel
    from recent as r
    where r.direction = 'outbound'
        and r.ts < $sent_before
        and r.channel != 'call'
        and list_contains(cast($channels as varchar[]), r.channel)
),

responses as (
    select r.account_id, r.ts
    from recent as r
    where r.direction = 'inbound'
    union all
    select p.account_id, p.paid_at as ts
    from payments as p
    where p.paid_at >= $since and p.paid_at < $until
        and p.amount > 0
),

answered as (
    select
        m.account_id,
        m.ts,
        m.channel,
        coalesce(x.ts <= m.ts + to_hours(cast($response_hours as integer)), false) as reached
    from messages as m
    asof left join responses as x
        on m.account_id = x.account_id
        and m.ts < x.ts
),

attempts as (
    select l.account_id, l.ts, l.channel, l.reached
    from calls as l
    union all
    select w.account_id, w.ts, w.channel, w.reached
    from answered as w
),

hourly as (
    select
        t.account_id,
        t.channel,
        hour(timezone(a.timezone, t.ts)) as local_hour,
        count(*) as attempts,
        count(*) filter (where t.reached) as reached
    from attempts as t
    inner join accounts_in as a on t.account_id = a.account_id
    group by t.account_id, t.channel, local_hour
),

cells as (
    select h.account_id, h.channel, a.portfolio, a.state, h.local_hour, h.attempts, h.reached
    from hourly as h
    inner join accounts_in as a on h.account_id = a.account_id
),

firm as (
    select c.channel, sum(c.attempts) as attempts, sum(c.reached) as reached, sum(c.reached) / sum(c.attempts) as rate
    from cells as c
    group by c.channel
),

firm_hour_totals as (
    select c.channel, c.local_hour, sum(c.attempts) as attempts, sum(c.reached) as reached
    from cells as c
    group by c.channel, c.local_hour
),

segment_totals as (
    select c.channel, c.portfolio, c.state, sum(c.attempts) as attempts, sum(c.reached) as reached
    from cells as c
    group by c.channel, c.portfolio, c.state
),

segment_hour_totals as (
    select c.channel, c.portfolio, c.state, c.local_hour, sum(c.attempts) as attempts, sum(c.reached) as reached
    from cells as c
    group by c.channel, c.portfolio, c.state, c.local_hour
),

account_totals as (
    select c.account_id, c.channel, c.portfolio, c.state, sum(c.attempts) as attempts, sum(c.reached) as reached
    from cells as c
    group by c.account_id, c.channel, c.portfolio, c.state
),

-- Each level's observed rates against the level above (its raw rate): segments against the firm, accounts
-- against their segment, over all hours (scope total) and hour by hour (scope hour).
observed as (
    select 'segment' as level, 'total' as scope, s.channel, s.attempts, s.reached, f.rate as prior
    from segment_totals as s
    inner join firm as f on s.channel = f.channel
    union all
    select 'segment' as level, 'hour' as scope, s.channel, s.attempts, s.reached, h.reached / h.attempts as prior
    from segment_hour_totals as s
    inner join firm_hour_totals as h on s.channel = h.channel and s.local_hour = h.local_hour
    union all
    select 'account' as level, 'total' as scope, t.channel, t.attempts, t.reached, s.reached / s.attempts as prior
    from account_totals as t
    inner join segment_totals as s on t.channel = s.channel and t.portfolio = s.portfolio and t.state = s.state
    union all
    select 'account' as level, 'hour' as scope, c.channel, c.attempts, c.reached, s.reached / s.attempts as prior
    from cells as c
    inner join segment_hour_totals as s
        on c.channel = s.channel
        and c.portfolio = s.portfolio
        and c.state = s.state
        and c.local_hour = s.local_hour
),

-- The prior's weight k (pseudo-attempts) per level, scope and channel, by the method of moments of a
-- beta-binomial: tau2 = (sum n (y/n - m)^2 - sum m(1-m)) / sum n estimates the variance of the true rates
-- around their priors m; a beta prior of k pseudo-attempts has variance m(1-m)/(k+1), so k = the mean of
-- m(1-m) / tau2 - 1. No spread beyond the binomial noise (tau2 <= 0) gives $k_max.
spread as (
    select
        o.level,
        o.scope,
        o.channel,
        sum(o.attempts * o.prior * (1 - o.prior)) / sum(o.attempts) as binomial_var,
        (sum(o.attempts * power(o.reached / o.attempts - o.prior, 2)) - sum(o.prior * (1 - o.prior)))
        / sum(o.attempts) as tau2
    from observed as o
    group by o.level, o.scope, o.channel
),

weights as (
    select
        s.level,
        s.scope,
        s.channel,
        greatest($k_min, least($k_max, case when s.tau2 > 0 then s.binomial_var / s.tau2 - 1 else $k_max end)) as k
    from spread as s
),

priors as (
    select
        ch.channel,
        f.rate as firm_rate,
        coalesce(max(w.k) filter (where w.level = 'segment' and w.scope = 'total'), $k_max) as k_segment,
        coalesce(max(w.k) filter (where w.level = 'segment' and w.scope = 'hour'), $k_max) as k_segment_hour,
        coalesce(max(w.k) filter (where w.level = 'account' and w.scope = 'total'), $k_max) as k_account,
        coalesce(max(w.k) filter (where w.level = 'account' and w.scope = 'hour'), $k_max) as k_account_hour
    from channels as ch
    left join firm as f on ch.channel = f.channel
    left join weights as w on ch.channel = w.channel
    group by ch.channel, f.rate
),

segments as (
    select distinct ch.channel, o.portfolio, o.state
    from open_accounts as o
    cross join channels as ch
),

segment_rate as (
    select
        g.channel,
        g.portfolio,
        g.state,
        (coalesce(s.reached, 0) + k.k_segment * k.firm_rate) / (coalesce(s.attempts, 0) + k.k_segment) as rate
    from segments as g
    inner join priors as k on g.channel = k.channel
    left join segment_totals as s
        on g.channel = s.channel
        and g.portfolio = s.portfolio
        and g.state = s.state
),

-- The firm's rate per hour, shrunk toward its rate over all hours like a segment's (it matters only for an
-- hour with few attempts).
firm_hour as (
    select
        k.channel,
        h.local_hour,
        (coalesce(t.reached, 0) + k.k_segment_hour * k.firm_rate) / (coalesce(t.attempts, 0) + k.k_segment_hour)
            as rate
    from priors as k
    cross join hours as h
    left join firm_hour_totals as t on k.channel = t.channel and h.local_hour = t.local_hour
),

segment_hour as (
    select
        g.channel,
        g.portfolio,
        g.state,
        fh.local_hour,
        (coalesce(s.reached, 0) + k.k_segment_hour * fh.rate) / (coalesce(s.attempts, 0) + k.k_segment_hour)
            as rate
    from segments as g
    inner join priors as k on g.channel = k.channel
    inner join firm_hour as fh on g.channel = fh.channel
    left join segment_hour_totals as s
        on g.channel = s.channel
        and g.portfolio = s.portfolio
        and g.state = s.state
        and fh.local_hour = s.local_hour
),

account_hour as (
    select
        o.account_id,
        sh.channel,
        sh.local_hour,
        (coalesce(c.reached, 0) + k.k_account_hour * sh.rate) / (coalesce(c.attempts, 0) + k.k_account_hour) as rate
    from open_accounts as o
    inner join segment_hour as sh on o.portfolio = sh.portfolio and o.state = sh.state
    inner join priors as k on sh.channel = k.channel
    left join cells as c
        on o.account_id = c.account_id
        and sh.channel = c.channel
        and sh.local_hour = c.local_hour
),

ranked as (
    select
        ah.account_id,
        ah.channel,
        list(ah.local_hour order by ah.rate desc nulls last, ah.local_hour asc) as hours
    from account_hour as ah
    group by ah.account_id, ah.channel
),

final as (
    select
        o.account_id,
        g.channel,
        (coalesce(t.reached, 0) + k.k_account * g.rate) / (coalesce(t.attempts, 0) + k.k_account) as reach_rate,
        r.hours[1] as best_local_hour,
        r.hours
    from open_accounts as o
    inner join segment_rate as g on o.portfolio = g.portfolio and o.state = g.state
    inner join priors as k on g.channel = k.channel
    inner join ranked as r on o.account_id = r.account_id and g.channel = r.channel
    left join account_totals as t on o.account_id = t.account_id and g.channel = t.channel
)

select * from final
order by account_id, channel
