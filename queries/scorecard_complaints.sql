-- Complaints received, resolved and open per month of the reporting zone (SPEC section 3).
-- Grain: one row per month (month_start: first day of the month in zone $tz), $first_month..$last_month.
-- Parameters: $tz (IANA zone), $first_month, $last_month (first days of months, inclusive).
-- Units: counts; resolution_days_median in days of 86,400 s (fractional, interpolated median);
-- resolved_within_8_weeks counts resolutions with resolved_at - received_at <= 56 * 86,400 s.
-- Open at the end of M: received before the end of M and not resolved before it.
with

final as (
    select
        month as month_start,
        received as complaints_received,
        resolved as complaints_resolved,
        median_resolution_days as resolution_days_median,
        resolved_within_8_weeks,
        open_end_of_month as complaints_open_end_of_month
    from
        complaint_months(
            $tz, $first_month, $last_month,
            date '0001-01-01', date '9999-12-31', []::varchar[], []::varchar[], []::varchar[]
        )
)

select * from final
order by month_start
