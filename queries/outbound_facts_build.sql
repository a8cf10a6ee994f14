-- Outbound contacts with what the Balance and Repayments pages ask of each, found once here: the account's
-- filter attributes, the local weekday and hour, whether it reached the right party, whether it was breached.
-- Grain: one row per outbound contact whose account exists.
-- Inputs: contacts, accounts, the derived table breaches. No parameters.
-- Units: day = UTC date of ts; weekday (isodow, 1 = Monday) and local_hour in the account's time zone;
--   reached: a call with outcome conversation, on other channels an inbound contact of the account on the
--   same channel within 24 hours after it (null for a call without outcome: not reached); breached: at least
--   one presumed breach on the contact; prev_day: the UTC date of the account's previous outbound contact on
--   the channel (contact order: ts, contact_id; null for its first), prev_reached_day: that of its previous
--   contact that reached (so the accounts contacted in a date range are counted without a distinct: the
--   rows in the range whose prev_day is before it). Ordered by day, so a date filter skips row groups.
with

outbound as (
    select c.contact_id, c.account_id, c.ts, c.channel, c.outcome, c.agent_id
    from contacts as c
    where c.direction = 'outbound'
),

inbound as (
    select c.account_id, c.channel, c.ts
    from contacts as c
    where c.direction = 'inbound'
),

replied as (
    select o.contact_id, o.account_id, o.ts, o.channel, o.outcome, o.agent_id, i.ts as reply_ts
    from outbound as o
    asof left join inbound as i
        on o.account_id = i.account_id
        and o.channel = i.channel
        and o.ts < i.ts
),

breached as (
    select distinct contact_id
    from breaches
),

facts as (
    select
        cast(utc_timestamp(r.ts) as date) as day,
        r.account_id,
        a.portfolio,
        a.team,
        a.strategy,
        r.channel,
        r.agent_id,
        isodow(timezone(a.timezone, r.ts)) as weekday,
        hour(timezone(a.timezone, r.ts)) as local_hour,
        case
            when r.channel = 'call' then is_right_party(r.channel, r.outcome)
            else r.reply_ts is not null and r.reply_ts <= r.ts + interval 24 hour
        end as reached,
        b.contact_id is not null as breached,
        r.ts,
        r.contact_id
    from replied as r
    inner join accounts as a on a.account_id = r.account_id
    left join breached as b on b.contact_id = r.contact_id
),

final as (
    select
        day,
        account_id,
        portfolio,
        team,
        strategy,
        channel,
        agent_id,
        weekday,
        local_hour,
        reached,
        breached,
        lag(day) over (partition by account_id, channel order by ts, contact_id) as prev_day,
        max(case when reached then day end) over (
            partition by account_id, channel order by ts, contact_id rows between unbounded preceding and 1 preceding
        ) as prev_reached_day
    from facts
)

select * from final
order by day
