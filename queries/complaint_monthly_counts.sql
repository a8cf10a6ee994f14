-- Complaint handling by month: one row per calendar month of the reporting zone $tz, from the first
-- to the last month in which a complaint was received or resolved (within the filter range); months
-- in between without events are listed with zero counts and empty medians.
-- Grain: one row per month (month: first day of the calendar month in $tz), first to last event month, gaps included.
-- Parameters: $tz; shared filters $start, $end (dates in $tz, inclusive), $portfolios, $teams,
--   $strategies (of the complaint's account; complaints without an account only pass when these are
--   empty); $channels is not used (complaints have no channel).
-- Units: counts of complaints and accounts; *_days in days of 86,400 s (fractional); redress in the
--   amount's currency. received: received in M; resolved: resolved in M (and its medians, 8-week and
--   3-business-day counts); open_end_of_month: received before the end of M and not resolved before it;
--   accounts_in_book: placed_date on or before the last day of M.
with

facts as (
    select received_month, received_date, resolved_month, resolved_date
    from complaint_facts($tz)
    where account_chosen($portfolios, $teams, $strategies, portfolio, team, strategy)
),

event_months as (
    select received_month as month from facts where received_date between $start and $end
    union
    select resolved_month from facts where resolved_date between $start and $end
),

span as (
    select min(month) as first_month, max(month) as last_month
    from event_months
),

final as (
    select *
    from
        complaint_months(
            $tz, (select s.first_month from span as s), (select s.last_month from span as s),
            $start, $end, $portfolios, $teams, $strategies
        )
    where (select s.last_month from span as s) is not null
)

select * from final
order by month
