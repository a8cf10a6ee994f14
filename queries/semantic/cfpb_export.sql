-- Macro: cfpb_export(path)
-- The CFPB Consumer Complaint Database export shipped in data/cfpb/ (read at query time), its
-- columns named and its dates parsed once for the three benchmark queries (the export's vintages
-- write dates as YYYY/MM/DD, MM/DD/YYYY or ISO).
-- Grain: one row per complaint of the file.
-- Parameters: path (the CSV file). Units: dates; texts as the file gives them.
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
from read_csv(path, header = true, all_varchar = true)
