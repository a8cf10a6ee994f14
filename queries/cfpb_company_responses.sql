-- CFPB public debt-collection sample: one row per "Company response to consumer" value.
-- Grain: one row per "Company response to consumer" value in the file (missing as '(none)').
-- Parameters: $path (the CSV file).
-- Units: complaints = count of complaints with that response; shares are computed in Python.
with complaints as (
    select * from cfpb_export($path)
),

final as (
    select coalesce(company_response, '(none)') as company_response, count(*) as complaints
    from complaints
    group by all
)

select * from final
order by complaints desc, company_response asc
