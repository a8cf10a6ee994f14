-- Macro: plan_bound_windowed_cap(p_rule_id, p_cap, p_window_days, p_channels, p_directions, p_outcomes_excluded, p_consent_exclusion, p_consent_window_days, p_vulnerable, p_states, p_portfolios, p_products, p_teams, p_strategies, p_new_channels)
-- The contact plan's bound from one windowed_cap rule: one more counted contact at instant t on the
-- plan's local date D is within the cap when the counted contacts dated in [D - p_window_days + 1, D] at
-- or before it number at most p_cap - 1, i.e. t comes before the p_cap-th of them in time (a contact at
-- the same instant counts, whatever its contact_id: the plan cannot know the new one's). So the bound
-- is an end: the last whole second before that contact (none when there are fewer).
-- Grain: one row per (selected account, channel in p_new_channels).
-- Reads: temp tables plan_accounts, plan_contacts, plan_consents (queries/plan_*.sql).
-- Parameters: as rule_windowed_cap's and breach_counted's for one rule; p_new_channels: the plan's
--   channels on which the new contact is one this rule counts.
-- Columns: lo (null: no start bound), hi (last allowed whole second), left_at_start (counted contacts
--   the cap leaves at the start of D), cooldown_ends (null).
with

accounts as (
    select account_key, day_number, day_start
    from plan_accounts
    where rule_selects(
            p_vulnerable, cast(p_states as varchar[]), cast(p_portfolios as varchar[]),
            cast(p_products as varchar[]), cast(p_teams as varchar[]), cast(p_strategies as varchar[]),
            vulnerable, state_code, portfolio, product, team, strategy
        )
),

new_channels as (
    select unnest(cast(p_new_channels as varchar[])) as channel
),

candidates as (
    select
        c.contact_id,
        c.account_key,
        c.ts,
        c.day_number,
        a.day_start
    from plan_contacts as c
    inner join accounts as a on c.account_key = a.account_key
    where list_contains(cast(p_channels as varchar[]), c.channel)
        and list_contains(cast(p_directions as varchar[]), c.direction)
        and (c.outcome is null or not list_contains(cast(p_outcomes_excluded as varchar[]), c.outcome))
        and c.day_number between a.day_number - p_window_days + 1 and a.day_number
),

-- In a consent window (SPEC section 2): ts >= the consent's given_at and local date <= its local date
-- + p_consent_window_days - 1.
covered as (
    select distinct p.contact_id
    from candidates as p
    inner join plan_consents as g on p.account_key = g.account_key and p.ts >= g.given_at
    where p_consent_exclusion and p.day_number <= g.day_number + p_consent_window_days - 1
),

windows as (
    select
        p.account_key,
        list(p.ts order by p.ts) as times,
        count(*) filter (where p.ts < p.day_start) as before_start
    from candidates as p
    anti join covered as c on p.contact_id = c.contact_id
    group by p.account_key
),

final as (
    select
        a.account_key,
        n.channel,
        p_rule_id as rule_id,
        cast(null as timestamptz) as lo,
        case
            when p_cap <= 0 then a.day_start - interval 1 second
            when len(w.times) >= p_cap then ceil_second(w.times[p_cap]) - interval 1 second
        end as hi,
        p_cap - coalesce(w.before_start, 0) as left_at_start,
        cast(null as timestamptz) as cooldown_ends
    from accounts as a
    cross join new_channels as n
    left join windows as w on a.account_key = w.account_key
)

select * from final
