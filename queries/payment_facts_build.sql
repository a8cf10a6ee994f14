-- Payments with the channel of the account's last contact before each (the Repayments page's
-- "channel of last contact"), found once here rather than by an as-of join over every contact per view.
-- Grain: one row per payment.
-- Inputs: payments, contacts. No parameters.
-- Units: amount in currency (negative: a reversal); day and month_start the UTC date and month of paid_at;
--   last_channel 'no prior contact' when the account had none before the payment. Ordered by day.
with

payments as (
    select p.payment_id, p.account_id, p.paid_at, p.amount
    from payments as p
),

contacts as (
    select c.account_id, c.ts, c.channel
    from contacts as c
),

final as (
    select
        p.payment_id,
        p.account_id,
        p.paid_at,
        cast(utc_timestamp(p.paid_at) as date) as day,
        cast(date_trunc('month', utc_timestamp(p.paid_at)) as date) as month_start,
        p.amount,
        coalesce(c.channel, 'no prior contact') as last_channel
    from payments as p
    asof left join contacts as c
        on p.account_id = c.account_id
        and p.paid_at > c.ts
)

select * from final
order by day, payment_id
