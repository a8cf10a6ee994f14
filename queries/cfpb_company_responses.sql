-- CFPB public debt-collection sample: one row per "Company response to consumer" value.
-- Grain: one row per "Company response to consumer" value in the file (missing as '(none)').
-- Parameters: $path (the CSV file).
-- Units: complaints = count of complaints with that response; shares are computed in Python.
with export as (
    select * from read_csv($path, header = true, all_varchar = true)
),

complaints as (
    select
        -- the CSV's header names as the file spells them, quoted alike (RF06: "Issue" needs no quotes)
        "Issue" as issue,  -- noqa: RF06
        "Company response to consumer" as company_response,
        "Timely response?" as timely_response,
        "Consumer disputed?" as consumer_disputed,
        cast(coalesce(
            try_strptime("Date received", '%Y/%m/%d'),
            try_strptime("Date received", '%m/%d/%Y'),
            try_strptime("Date received", '%Y-%m-%d')
        ) as date) as date_received,
        cast(coalesce(
            try_strptime("Date sent to company", '%Y/%m/%d'),
            try_strptime("Date sent to company", '%m/%d/%Y'),
            try_strptime("Date sent to company", '%Y-%m-%d')
        ) as date) as date_sent
    from export
),

final as (
    select coalesce(company_response, '(none)') as company_response, count(*) as complaints
    from complaints
    group by all
)

select * from final
order by complaints desc, company_response asc
