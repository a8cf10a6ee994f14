-- CFPB public debt-collection sample: one row of timeliness counts over the whole file.
-- Grain: one row (the whole file).
-- Parameters: $path (the CSV file).
-- Units: counts of complaints; median_routing_days = median of (Date sent to company - Date received)
--   in days: the CFPB's routing time, NOT the company's resolution time. "Consumer disputed?" is only
--   given up to April 2017 (disputed_given counts the complaints that have it).
with complaints as (
    select * from cfpb_export($path)
),

final as (
    select
        count(*) as complaints,
        min(date_received) as first_received,
        max(date_received) as last_received,
        count(*) filter (where lower(timely_response) in ('yes', 'no')) as timely_given,
        count(*) filter (where lower(timely_response) = 'yes') as timely_yes,
        count(*) filter (where company_response like 'Closed with %relief') as closed_with_relief,
        median(date_sent - date_received) as median_routing_days,
        count(*) filter (where lower(consumer_disputed) in ('yes', 'no')) as disputed_given,
        count(*) filter (where lower(consumer_disputed) = 'yes') as disputed_yes,
        max(date_received) filter (where lower(consumer_disputed) in ('yes', 'no')) as last_dispute_received
    from complaints
)

select * from final
