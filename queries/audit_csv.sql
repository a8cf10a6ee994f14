-- The audit command's CSV rows (SPEC section 4) as text, each field written the way Python's csv
-- module writes it (QUOTE_MINIMAL, as the command wrote with pandas before): a field holding a
-- comma, a double quote or a line feed is enclosed in double quotes, its double quotes doubled;
-- empty text and null are both written as nothing; nothing else is quoted (not a lone carriage
-- return, not a leading '#'). DuckDB's CSV writer then writes these texts as they are (quote '').
-- Grain: one row per breach (contact_id, rule_id), in output order: ts, contact_id, rule_id.
-- Reads: temp table audit_breaches (the audit's statement, analysis.compliance.engine).
-- Units: ts ISO 8601 UTC with `Z`, local_ts the account's wall time without offset; whole seconds
--   print without a fraction, other times with six digits of microseconds.
with

breaches as (
    select
        contact_id as raw_contact_id,
        account_id as raw_account_id,
        rule_id as raw_rule_id,
        cast(evidence as varchar) as raw_evidence,
        explanation as raw_explanation,
        make_timestamp(epoch_us(ts)) as utc_ts,
        local_ts as raw_local_ts
    from audit_breaches
),

final as (
    select
        case
            when regexp_matches(raw_contact_id, '[,"\n]')
                then '"' || replace(raw_contact_id, '"', '""') || '"'
            else raw_contact_id
        end as contact_id,
        case
            when regexp_matches(raw_account_id, '[,"\n]')
                then '"' || replace(raw_account_id, '"', '""') || '"'
            else raw_account_id
        end as account_id,
        case
            when regexp_matches(raw_rule_id, '[,"\n]')
                then '"' || replace(raw_rule_id, '"', '""') || '"'
            else raw_rule_id
        end as rule_id,
        case
            when microsecond(utc_ts) % 1000000 = 0 then strftime(utc_ts, '%Y-%m-%dT%H:%M:%SZ')
            else strftime(utc_ts, '%Y-%m-%dT%H:%M:%S.%fZ')
        end as ts,
        case
            when microsecond(raw_local_ts) % 1000000 = 0 then strftime(raw_local_ts, '%Y-%m-%dT%H:%M:%S')
            else strftime(raw_local_ts, '%Y-%m-%dT%H:%M:%S.%f')
        end as local_ts,
        case
            when regexp_matches(raw_evidence, '[,"\n]')
                then '"' || replace(raw_evidence, '"', '""') || '"'
            else raw_evidence
        end as evidence,
        case
            when regexp_matches(raw_explanation, '[,"\n]')
                then '"' || replace(raw_explanation, '"', '""') || '"'
            else raw_explanation
        end as explanation
    from breaches
)

select * from final
