-- The audit command's CSV rows on Spark (the Spark variant of queries/audit_csv.sql, same text): each
-- field as Python's csv module writes it (QUOTE_MINIMAL): a field holding a comma, a double quote or a
-- line feed is enclosed in double quotes, its double quotes doubled; null is written as nothing (the
-- writer, analysis.spark.audit, puts nothing for a null); nothing else is quoted.
-- Grain: one row per breach (contact_id, rule_id), in output order: ts, contact_id, rule_id.
-- Reads: temp view audit_breaches (analysis.spark.audit.breach_frame).
-- Units: ts ISO 8601 UTC with `Z`, local_ts the account's wall time without offset; whole seconds
--   print without a fraction, other times with six digits of microseconds.
-- Why a variant: sqlglot turns DuckDB's strftime patterns into Java patterns with the literal T and Z
--   unquoted (Z is then the zone offset) and keeps epoch_us and microsecond, which Spark lacks.
with

breaches as (
    select
        contact_id as raw_contact_id,
        account_id as raw_account_id,
        rule_id as raw_rule_id,
        evidence as raw_evidence,
        explanation as raw_explanation,
        ts as utc_ts,
        cast(local_ts as timestamp) as raw_local_ts
    from audit_breaches
),

final as (
    select
        case
            when raw_contact_id rlike '[,"\\n]'
                then concat('"', replace(raw_contact_id, '"', '""'), '"')
            else raw_contact_id
        end as contact_id,
        case
            when raw_account_id rlike '[,"\\n]'
                then concat('"', replace(raw_account_id, '"', '""'), '"')
            else raw_account_id
        end as account_id,
        case
            when raw_rule_id rlike '[,"\\n]'
                then concat('"', replace(raw_rule_id, '"', '""'), '"')
            else raw_rule_id
        end as rule_id,
        case
            when pmod(unix_micros(utc_ts), 1000000) = 0 then date_format(utc_ts, "yyyy-MM-dd'T'HH:mm:ss'Z'")
            else concat(
                    date_format(utc_ts, "yyyy-MM-dd'T'HH:mm:ss"), '.',
                    lpad(cast(pmod(unix_micros(utc_ts), 1000000) as string), 6, '0'), 'Z'
                )
        end as ts,
        case
            when pmod(unix_micros(raw_local_ts), 1000000) = 0 then date_format(raw_local_ts, "yyyy-MM-dd'T'HH:mm:ss")
            else concat(
                    date_format(raw_local_ts, "yyyy-MM-dd'T'HH:mm:ss"), '.',
                    lpad(cast(pmod(unix_micros(raw_local_ts), 1000000) as string), 6, '0')
                )
        end as local_ts,
        case
            when raw_evidence rlike '[,"\\n]'
                then concat('"', replace(raw_evidence, '"', '""'), '"')
            else raw_evidence
        end as evidence,
        case
            when raw_explanation rlike '[,"\\n]'
                then concat('"', replace(raw_explanation, '"', '""'), '"')
            else raw_explanation
        end as explanation,
        utc_ts as order_ts,
        raw_contact_id as order_contact_id,
        raw_rule_id as order_rule_id
    from breaches
)

select
    contact_id,
    account_id,
    rule_id,
    ts,
    local_ts,
    evidence,
    explanation
from final
order by order_ts, order_contact_id, order_rule_id
