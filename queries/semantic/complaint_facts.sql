-- Macro: complaint_facts(tz)
-- Complaint facts: every complaint with its account's segments, its local dates and months in the
-- reporting zone, its resolution time and the DISP timeliness flags, each defined once here.
-- Grain: one row per complaint.
-- Parameters: tz (IANA zone of the reporting dates). Units: resolution_s in seconds (fractional),
--   resolution_days in days of 86,400 s; flags are null while the complaint is open.
select
    c.*,
    a.portfolio,
    a.team,
    a.strategy,
    local_date(c.received_at, tz) as received_date,
    local_date(c.resolved_at, tz) as resolved_date,
    local_month(c.received_at, tz) as received_month,
    local_month(c.resolved_at, tz) as resolved_month,
    resolution_seconds(c.received_at, c.resolved_at) as resolution_s,
    resolution_seconds(c.received_at, c.resolved_at) / 86400 as resolution_days,
    within_8_weeks(resolution_seconds(c.received_at, c.resolved_at)) as resolved_within_8_weeks,
    summary_deadline(c.received_at, tz) as summary_deadline,
    c.resolved_at < summary_deadline(c.received_at, tz) as resolved_within_3_business_days
from complaints as c
left join accounts as a on a.account_id = c.account_id
