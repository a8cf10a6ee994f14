-- Backlog ageing: one row per age band of the complaints open at $as_of (received before it and not
-- resolved before it), every band listed (count 0 when empty), youngest first.
-- Grain: one row per age band (band_order 1..5), every band, empty ones with 0.
-- Parameters: $as_of (instant: the end of the range); shared filters $portfolios, $teams, $strategies.
--   The date range does not apply: a complaint received long ago and still open is in the backlog.
-- Units: age = $as_of - received_at in days of 86,400 s; bands are upper-inclusive
--   (0-7 d means age <= 7 x 86,400 s; 29-56 d ends at the FCA DISP 1.6 eight weeks).
with complaints as (
    select * from complaints
),

accounts as (
    select account_id, portfolio, team, strategy from accounts
),

bands as (
    select
        t.band_order,
        t.age_band,
        t.above_days,
        t.up_to_days
    from (
        values
        (1, '0-7 days', 0, 7),
        (2, '8-28 days', 7, 28),
        (3, '29-56 days', 28, 56),
        (4, '57-90 days', 56, 90),
        (5, 'over 90 days', 90, null)
    ) as t (band_order, age_band, above_days, up_to_days)
),

open_complaints as (
    select
        c.complaint_id,
        (epoch_us($as_of) - epoch_us(c.received_at)) / 1e6 as age_s
    from complaints as c
    left join accounts as a on a.account_id = c.account_id
    where c.received_at < $as_of
        and (c.resolved_at is null or c.resolved_at >= $as_of)
        and account_chosen($portfolios, $teams, $strategies, a.portfolio, a.team, a.strategy)
),

final as (
    select
        b.band_order,
        b.age_band,
        count(o.complaint_id) as open_complaints
    from bands as b
    left join open_complaints as o
        on (b.above_days = 0 or o.age_s > b.above_days * 86400)
        and (b.up_to_days is null or o.age_s <= b.up_to_days * 86400)
    group by b.band_order, b.age_band
)

select * from final
order by band_order
