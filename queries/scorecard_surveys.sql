-- Survey responses per month of the reporting zone, for NPS and CSAT (SPEC section 3).
-- Grain: one row per month (month_start: first day of the month in zone $tz), $first_month..$last_month.
-- Parameters: $tz (IANA zone), $first_month, $last_month (first days of months, inclusive).
-- Units: counts of responses. nps = 100 * (promoters - detractors) / nps_responses, in Python.
with

months as (
    select cast(g.m as date) as month_start
    from generate_series(cast($first_month as timestamp), cast($last_month as timestamp), interval 1 month) as g (m)
),

surveys as (
    select nps, csat, nps_band, csat_satisfied, month as month_start
    from survey_facts($tz)
),

per_month as (
    select
        month_start,
        count(nps) as nps_responses,
        count(*) filter (where nps_band = 'promoter') as nps_promoters,
        count(*) filter (where nps_band = 'detractor') as nps_detractors,
        count(csat) as csat_responses,
        count(*) filter (where csat_satisfied) as csat_satisfied
    from surveys
    group by month_start
),

final as (
    select
        m.month_start,
        coalesce(p.nps_responses, 0) as nps_responses,
        coalesce(p.nps_promoters, 0) as nps_promoters,
        coalesce(p.nps_detractors, 0) as nps_detractors,
        coalesce(p.csat_responses, 0) as csat_responses,
        coalesce(p.csat_satisfied, 0) as csat_satisfied
    from months as m
    left join per_month as p on m.month_start = p.month_start
)

select * from final
order by month_start
