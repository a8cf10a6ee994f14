-- The propensity model's label (issue 24): accounts that made a payment (amount > 0) in the 30 days
-- from each snapshot date, [as_of 00:00 UTC, as_of + 30 days).
-- Grain: one row per (as_of, account_id) with such a payment (the others did not pay).
-- Reads: payments.
-- Parameters: $snapshots (date[]): the snapshot dates.
with

snapshots as (
    select s.as_of, s.as_of_ts from snapshot_instants($snapshots) as s
),

final as (
    select distinct
        s.as_of,
        p.account_id
    from snapshots as s
    inner join payments as p
        on p.paid_at >= s.as_of_ts
        and p.paid_at < s.as_of_ts + interval 30 day
    where p.amount > 0
)

select * from final
order by as_of, account_id
