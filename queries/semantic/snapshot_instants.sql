-- Macro: snapshot_instants(snapshots)
-- Snapshot dates and their instants: each date D with D 00:00 UTC, the instant before which an event
-- is "known at D" (the propensity model's features and labels, issue 24).
-- Grain: one row per date of the list `snapshots` (date[] or ISO text[]).
with

final as (
    select
        s.as_of,
        timezone('utc', cast(s.as_of as timestamp)) as as_of_ts
    from (select unnest(cast(snapshots as date[])) as as_of) as s
)

select * from final
