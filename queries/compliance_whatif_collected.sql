-- Money collected from the accounts of flagged contacts within 30 days after those contacts.
-- Grain: one row per scenario of the relation `flagged_contacts` (scenario, contact_id,
--   account_id, ts), registered by the caller (analysis/compliance/whatif.py).
-- A payment counts once per scenario when it belongs to the account of some flagged contact f
--   with f.ts < paid_at <= f.ts + $days days (elapsed time); reversals (negative amounts) count.
-- Parameters: $days (days, 30 by default).
-- Units: contacts, accounts = distinct counts; collected_amount in the data's currency
--   (DECIMAL, 2 places); payments = distinct payments counted.
with

flagged as (
    select scenario, contact_id, account_id, ts
    from flagged_contacts
),

payments as (
    select payment_id, account_id, paid_at, amount
    from payments
),

flagged_totals as (
    select
        scenario,
        count(distinct contact_id) as contacts,
        count(distinct account_id) as accounts
    from flagged
    group by scenario
),

counted_payments as (
    select distinct
        f.scenario,
        p.payment_id,
        p.amount
    from flagged as f
    inner join payments as p
        on p.account_id = f.account_id
        and p.paid_at > f.ts
        and p.paid_at <= f.ts + to_days(cast($days as integer))
),

collected as (
    select
        scenario,
        count(*) as payments,
        sum(amount) as collected_amount
    from counted_payments
    group by scenario
),

final as (
    select
        t.scenario,
        t.contacts,
        t.accounts,
        coalesce(c.payments, 0) as payments,
        coalesce(c.collected_amount, 0) as collected_amount
    from flagged_totals as t
    left join collected as c on c.scenario = t.scenario
)

select * from final
order by scenario
