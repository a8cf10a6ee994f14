-- Propensity-to-pay features (issue 24): what is known about each open account at each snapshot date,
-- from rows with a timestamp before the snapshot's 00:00 UTC only (nothing at or after it is read).
-- Grain: one row per (as_of, account_id) for each account open at as_of: placed_date < as_of and
--   balance = placed_balance - payments before as_of > 0.
-- Reads: accounts, contacts, payments, promises, complaints, preferences, consents, conversations,
--   conversation_sentiment, vulnerability_flags (the last three: conversations started before as_of).
-- Parameters: $snapshots (date[]): the as-of dates D; "before D" is a timestamp < D 00:00 UTC.
--   $sample (integer): 1 for every account, n for the accounts whose id hashes to 0 modulo n (training on a
--   large book, analysis/propensity/model.py; the same accounts at every snapshot).
-- Deterministic to the bit (the model's id is a hash of it): the mean sentiment is summed as decimals (a
--   parallel sum of doubles varies in its last bits with the threads' order), ties of the last
--   conversation broken by its id.
-- Units: amounts in currency; *_days whole days from the event's UTC date to D (null: never);
--   c7/c30/c90 counts of the 7, 30, 90 UTC days before D; promise kept as SPEC section 3 defines it,
--   known only once due_date + 3 days is before D (until then the promise is open).
with

-- The look-backs' first instants, once per snapshot: a timestamp-with-zone minus an interval is calendar
-- arithmetic, ~25x the cost of the comparison when done per contact.
snapshots as (
    select
        s.as_of,
        s.as_of_ts,
        s.as_of_ts - interval 7 day as from_c7,
        s.as_of_ts - interval 30 day as from_c30,
        s.as_of_ts - interval 90 day as from_c90
    from snapshot_instants($snapshots) as s
),

accounts as (
    select
        a.account_id, a.placed_date, a.placed_balance, a.portfolio, a.product, a.strategy,
        coalesce(a.vulnerable, false) as vulnerable
    from accounts as a
    where in_sample(a.account_id, $sample)
),

-- Contacts counted straight from the contacts table: "day >= D - n" is "ts >= D 00:00 UTC - n days" (the
-- connection's zone is UTC), and the last day of a kind is the UTC date of its last instant.
contact_features as (
    select
        s.as_of,
        c.account_id,
        count(*) as contacts_ever,
        count(*) filter (where is_placed_call(c.channel, c.direction) and c.ts >= s.from_c7)
            as calls_c7,
        count(*) filter (where is_placed_call(c.channel, c.direction) and c.ts >= s.from_c30)
            as calls_c30,
        count(*) filter (where is_placed_call(c.channel, c.direction) and c.ts >= s.from_c90)
            as calls_c90,
        count(*) filter (where is_right_party(c.channel, c.outcome) and c.ts >= s.from_c7)
            as rpc_c7,
        count(*) filter (where is_right_party(c.channel, c.outcome) and c.ts >= s.from_c30)
            as rpc_c30,
        count(*) filter (where is_right_party(c.channel, c.outcome) and c.ts >= s.from_c90)
            as rpc_c90,
        count(*) filter (where is_right_party(c.channel, c.outcome)) as rpc_ever,
        count(*) filter (where c.direction = 'inbound' and c.ts >= s.from_c7) as inbound_c7,
        count(*) filter (where c.direction = 'inbound' and c.ts >= s.from_c30) as inbound_c30,
        count(*) filter (where c.direction = 'inbound' and c.ts >= s.from_c90) as inbound_c90,
        count(*) filter (where c.direction = 'outbound' and c.channel in ('sms', 'email') and c.ts >= s.from_c30)
            as messages_c30,
        count(*) filter (where c.direction = 'outbound' and c.channel in ('sms', 'email') and c.ts >= s.from_c90)
            as messages_c90,
        s.as_of - cast(utc_timestamp(max(c.ts)) as date) as last_contact_days,
        s.as_of - cast(utc_timestamp(max(c.ts) filter (where is_right_party(c.channel, c.outcome))) as date)
            as last_rpc_days,
        s.as_of - cast(utc_timestamp(max(c.ts) filter (where c.direction = 'inbound')) as date) as last_inbound_days
    from snapshots as s
    inner join contacts as c on c.ts < s.as_of_ts
    where in_sample(c.account_id, $sample)
    group by s.as_of, c.account_id
),

payment_features as (
    select
        s.as_of,
        p.account_id,
        sum(p.amount) as paid_sum,
        count(*) filter (where p.amount > 0) as payments_ever,
        count(*) filter (where p.amount < 0) as reversals_ever,
        count(*) filter (where p.amount > 0 and p.paid_at >= s.from_c30) as payments_c30,
        count(*) filter (where p.amount > 0 and p.paid_at >= s.from_c90) as payments_c90,
        s.as_of - max(cast(utc_timestamp(p.paid_at) as date)) filter (where p.amount > 0) as last_payment_days
    from snapshots as s
    inner join payments as p on p.paid_at < s.as_of_ts
    where in_sample(p.account_id, $sample)
    group by s.as_of, p.account_id
),

-- Each promise's fate by SPEC section 3 (payments dated from its creation to due_date + 3 days), which
-- is known from the day after due_date + 3: `known_from`.
promise_fates as (
    select
        pr.promise_id,
        pr.account_id,
        pr.created_at,
        pr.due_date,
        pr.amount,
        pr.due_date + 4 as known_from,
        coalesce(sum(p.amount), 0) >= pr.amount as kept
    from promises as pr
    left join payments as p
        on p.account_id = pr.account_id
        and cast(utc_timestamp(p.paid_at) as date)
        between cast(utc_timestamp(pr.created_at) as date) and pr.due_date + 3
    where in_sample(pr.account_id, $sample)
    group by pr.promise_id, pr.account_id, pr.created_at, pr.due_date, pr.amount
),

promise_features as (
    select
        s.as_of,
        f.account_id,
        count(*) as promises_made,
        count(*) filter (where f.known_from <= s.as_of and f.kept) as promises_kept,
        count(*) filter (where f.known_from <= s.as_of and not f.kept) as promises_broken,
        count(*) filter (where f.known_from > s.as_of) as promises_open,
        sum(f.amount) filter (where f.known_from > s.as_of) as open_promise_amount,
        min(f.due_date - s.as_of) filter (where f.known_from > s.as_of) as open_promise_due_in_days,
        s.as_of - max(cast(utc_timestamp(f.created_at) as date)) as last_promise_days
    from snapshots as s
    inner join promise_fates as f on f.created_at < s.as_of_ts
    group by s.as_of, f.account_id
),

complaint_features as (
    select
        s.as_of,
        c.account_id,
        count(*) as complaints_ever,
        count(*) filter (where c.resolved_at is null or c.resolved_at >= s.as_of_ts) as complaints_open
    from snapshots as s
    inner join complaints as c on c.received_at < s.as_of_ts
    where in_sample(c.account_id, $sample)
    group by s.as_of, c.account_id
),

preference_features as (
    select
        s.as_of,
        p.account_id,
        bool_or(p.channel = 'call') as opted_out_call,
        bool_or(p.channel = 'sms') as opted_out_sms,
        bool_or(p.channel = 'email') as opted_out_email,
        bool_or(p.channel = 'all') as ceased
    from snapshots as s
    inner join preferences as p on p.opted_out_at < s.as_of_ts
    where in_sample(p.account_id, $sample)
    group by s.as_of, p.account_id
),

consent_features as (
    select distinct
        s.as_of,
        c.account_id
    from snapshots as s
    inner join consents as c on c.given_at < s.as_of_ts
    where in_sample(c.account_id, $sample)
),

sentiment_features as (
    select
        s.as_of,
        cs.account_id,
        arg_max(cs.customer_mean, {'at': cs.started_at, 'id': cs.conversation_id}) as last_sentiment,
        arg_max(cs.customer_min, {'at': cs.started_at, 'id': cs.conversation_id}) as last_sentiment_min,
        avg(cast(cs.customer_mean as decimal(18, 12)))
        filter (where cs.started_at >= s.from_c90) as sentiment_c90_exact
    from snapshots as s
    inner join conversation_sentiment as cs on cs.started_at < s.as_of_ts
    where in_sample(cs.account_id, $sample)
    group by s.as_of, cs.account_id
),

cue_conversations as (
    select distinct
        v.conversation_id,
        c.account_id,
        c.started_at
    from vulnerability_flags as v
    inner join conversations as c on c.conversation_id = v.conversation_id
    where in_sample(c.account_id, $sample)
),

cue_features as (
    select
        s.as_of,
        v.account_id,
        count(*) as cue_conversations,
        s.as_of - max(cast(utc_timestamp(v.started_at) as date)) as last_cue_days
    from snapshots as s
    inner join cue_conversations as v on v.started_at < s.as_of_ts
    group by s.as_of, v.account_id
),

final as (
    select
        s.as_of,
        a.account_id,
        cast(balance_at(a.placed_balance, pf.paid_sum) as double) as balance,
        cast(a.placed_balance as double) as placed_balance,
        s.as_of - a.placed_date as age_days,
        cast(coalesce(pf.paid_sum, 0) / nullif(a.placed_balance, 0) as double) as paid_share,
        coalesce(pf.payments_ever, 0) as payments_ever,
        coalesce(pf.reversals_ever, 0) as reversals_ever,
        coalesce(pf.payments_c30, 0) as payments_c30,
        coalesce(pf.payments_c90, 0) as payments_c90,
        pf.last_payment_days,
        coalesce(cf.contacts_ever, 0) as contacts_ever,
        coalesce(cf.calls_c7, 0) as calls_c7,
        coalesce(cf.calls_c30, 0) as calls_c30,
        coalesce(cf.calls_c90, 0) as calls_c90,
        coalesce(cf.rpc_c7, 0) as rpc_c7,
        coalesce(cf.rpc_c30, 0) as rpc_c30,
        coalesce(cf.rpc_c90, 0) as rpc_c90,
        coalesce(cf.rpc_ever, 0) as rpc_ever,
        coalesce(cf.inbound_c7, 0) as inbound_c7,
        coalesce(cf.inbound_c30, 0) as inbound_c30,
        coalesce(cf.inbound_c90, 0) as inbound_c90,
        coalesce(cf.messages_c30, 0) as messages_c30,
        coalesce(cf.messages_c90, 0) as messages_c90,
        cf.last_contact_days,
        cf.last_rpc_days,
        cf.last_inbound_days,
        coalesce(prf.promises_made, 0) as promises_made,
        coalesce(prf.promises_kept, 0) as promises_kept,
        coalesce(prf.promises_broken, 0) as promises_broken,
        coalesce(prf.promises_open, 0) as promises_open,
        cast(coalesce(prf.open_promise_amount, 0) as double) as open_promise_amount,
        prf.open_promise_due_in_days,
        prf.last_promise_days,
        coalesce(co.complaints_ever, 0) as complaints_ever,
        coalesce(co.complaints_open, 0) as complaints_open,
        a.vulnerable,
        coalesce(cu.cue_conversations, 0) as cue_conversations,
        cu.last_cue_days,
        se.last_sentiment,
        se.last_sentiment_min,
        cast(se.sentiment_c90_exact as double) as sentiment_c90,
        coalesce(pr.opted_out_call, false) as opted_out_call,
        coalesce(pr.opted_out_sms, false) as opted_out_sms,
        coalesce(pr.opted_out_email, false) as opted_out_email,
        coalesce(pr.ceased, false) as ceased,
        cn.account_id is not null as consent,
        a.portfolio,
        a.product,
        a.strategy
    from snapshots as s
    inner join accounts as a on a.placed_date < s.as_of
    left join payment_features as pf on pf.as_of = s.as_of and pf.account_id = a.account_id
    left join contact_features as cf on cf.as_of = s.as_of and cf.account_id = a.account_id
    left join promise_features as prf on prf.as_of = s.as_of and prf.account_id = a.account_id
    left join complaint_features as co on co.as_of = s.as_of and co.account_id = a.account_id
    left join preference_features as pr on pr.as_of = s.as_of and pr.account_id = a.account_id
    left join consent_features as cn on cn.as_of = s.as_of and cn.account_id = a.account_id
    left join sentiment_features as se on se.as_of = s.as_of and se.account_id = a.account_id
    left join cue_features as cu on cu.as_of = s.as_of and cu.account_id = a.account_id
    where is_open_account(a.placed_date, a.placed_balance, pf.paid_sum, s.as_of)
)

select * from final
order by as_of, account_id
