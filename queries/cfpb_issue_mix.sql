-- CFPB public debt-collection sample (the CSV shipped in data/cfpb/, read at query time): one row per issue.
-- Grain: one row per issue in the file (missing as '(none)').
-- Parameters: $path (the CSV file).
-- Units: complaints = count of complaints with that issue; shares are computed in Python.
with complaints as (
    select * from cfpb_export($path)
),

final as (
    select coalesce(issue, '(none)') as issue, count(*) as complaints
    from complaints
    group by all
)

select * from final
order by complaints desc, issue asc
