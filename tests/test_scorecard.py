"""SPEC section 3 metrics against hand-computed fixtures, with golden rows for each query.

Each fixture sits on a month boundary (23:59:59 on the last day vs 00:00:00 the next day) and is
read in UTC and in America/New_York (UTC-5 in February and early March 2026), where the same
instant falls in another month. Expected values are worked out by hand in the comments.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analysis import scorecard
from analysis.db import query_df
from analysis.errors import UserError

NY = "America/New_York"
FEB, MAR = date(2026, 2, 1), date(2026, 3, 1)


def add_accounts(con, *rows):
    """rows: (account_id, placed_date, placed_balance)"""
    for account_id, placed, balance in rows:
        con.execute("insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone) "
                    "values (?, ?, ?, ?, 'America/Chicago')", [account_id, "C" + account_id, placed, balance])


def add_payments(con, *rows):
    """rows: (payment_id, account_id, paid_at ISO, amount)"""
    for pid, acc, ts, amount in rows:
        con.execute("insert into payments values (?, ?, cast(? as timestamptz), ?, 'card')", [pid, acc, ts, amount])


def golden(con, stem, tz, first, last):
    df = query_df(con, stem, {"tz": tz, "first_month": first, "last_month": last})
    df["month_start"] = [pd.Timestamp(m).date() for m in df["month_start"]]
    return df


# --- payments, paying accounts, book and recovery ------------------------------------------------

@pytest.fixture
def book(fresh_db):
    con = fresh_db
    # A2 placed on the last day of February is in February's book; A3, placed on 1 March, is not.
    add_accounts(con, ("A1", date(2026, 1, 15), 1000), ("A2", date(2026, 2, 28), 500), ("A3", date(2026, 3, 1), 250))
    add_payments(
        con,
        ("P1", "A1", "2026-02-28T23:59:59Z", 100),   # UTC Feb; NY Feb 28 18:59:59
        ("P2", "A1", "2026-03-01T00:00:00Z", 50),    # UTC Mar; NY Feb 28 19:00
        ("P3", "A2", "2026-03-01T04:59:59Z", 30),    # UTC Mar; NY Feb 28 23:59:59
        ("P4", "A2", "2026-03-01T05:00:00Z", 20),    # UTC Mar; NY Mar 1 00:00:00
        ("P5", "A2", "2026-03-10T12:00:00Z", -20),   # a reversal, March in both zones
    )
    return con


def test_a_payment_at_the_last_second_of_a_month_counts_in_it_and_one_at_midnight_in_the_next(book):
    # UTC: Feb = P1 = 100 from A1; Mar = 50 + 30 + 20 - 20 = 80 from A1 and A2 (P5 is negative, A2 still pays via P3/P4).
    df = golden(book, "scorecard_payments", "UTC", FEB, MAR)
    assert df.to_dict("list") == {"month_start": [FEB, MAR], "collected_amount": [100.0, 80.0], "paying_accounts": [1, 2]}
    feb, mar = scorecard.month_values(book, "2026-02"), scorecard.month_values(book, "2026-03")
    assert (feb["collected_amount"], feb["paying_accounts"]) == (100.0, 1)
    assert (mar["collected_amount"], mar["paying_accounts"]) == (80.0, 2)


def test_the_reporting_zone_moves_payments_across_the_month_boundary(book):
    # New York: Feb = P1 + P2 + P3 = 180 from A1, A2; Mar = P4 + P5 = 0 from A2 (P4 > 0).
    df = golden(book, "scorecard_payments", NY, FEB, MAR)
    assert df.to_dict("list") == {"month_start": [FEB, MAR], "collected_amount": [180.0, 0.0], "paying_accounts": [2, 1]}
    assert scorecard.month_values(book, "2026-03", NY)["paying_accounts"] == 1


def test_an_account_with_only_a_reversal_in_the_month_is_not_a_paying_account(book):
    add_payments(book, ("P6", "A3", "2026-03-15T12:00:00Z", -5))
    assert scorecard.month_values(book, "2026-03")["paying_accounts"] == 2
    assert scorecard.month_values(book, "2026-03")["collected_amount"] == 75.0


def test_accounts_in_book_and_recovery_rate_use_the_end_of_the_month(book):
    # UTC Feb: book A1 + A2 = 1500; paid before 1 Mar 00:00Z = P1 = 100 -> 6.666..%.
    # UTC Mar: book A1 + A2 + A3 = 1750; paid = 100 + 80 = 180 -> 10.2857..%.
    # NY Feb: paid before 1 Mar 00:00 New York (05:00Z) = P1 + P2 + P3 = 180 -> 12%.
    df = golden(book, "scorecard_book", "UTC", date(2026, 1, 1), MAR)
    assert df["accounts_in_book"].tolist() == [1, 2, 3]
    assert df["placed_balance_in_book"].astype(float).tolist() == [1000.0, 1500.0, 1750.0]
    assert df["paid_to_date_in_book"].astype(float).tolist() == [0.0, 100.0, 180.0]
    assert scorecard.month_values(book, "2026-02")["recovery_rate_pct"] == pytest.approx(100 * 100 / 1500)
    assert scorecard.month_values(book, "2026-03")["recovery_rate_pct"] == pytest.approx(100 * 180 / 1750)
    assert scorecard.month_values(book, "2026-02", NY)["recovery_rate_pct"] == pytest.approx(12.0)
    assert scorecard.month_values(book, "2026-01")["accounts_in_book"] == 1


def test_payments_of_accounts_not_yet_in_book_do_not_count_toward_recovery(book):
    # A3 (placed 1 March) pays in February: not in February's book, so neither numerator nor denominator.
    add_payments(book, ("P7", "A3", "2026-02-10T12:00:00Z", 40))
    assert scorecard.month_values(book, "2026-02")["recovery_rate_pct"] == pytest.approx(100 * 100 / 1500)
    # In March A3 is in book and its February payment was paid before the end of March.
    assert scorecard.month_values(book, "2026-03")["recovery_rate_pct"] == pytest.approx(100 * 220 / 1750)


def test_a_book_of_zero_balance_gives_an_empty_recovery_rate_not_zero(fresh_db):
    add_accounts(fresh_db, ("Z1", date(2026, 2, 3), 0))
    assert scorecard.month_values(fresh_db, "2026-02")["recovery_rate_pct"] is None


# --- promises -------------------------------------------------------------------------------------

def add_promise(con, pid, acc, created, due, amount):
    con.execute("insert into promises values (?, ?, cast(? as timestamptz), ?, ?, 'G1')", [pid, acc, created, due, amount])


@pytest.fixture
def promises(fresh_db):
    con = fresh_db
    add_accounts(con, ("A1", date(2026, 1, 2), 1000), ("A2", date(2026, 1, 2), 1000), ("A3", date(2026, 1, 2), 1000),
                 ("A4", date(2026, 1, 2), 1000))
    # A1: due 25 Feb, paid on 28 Feb = due + 3 -> kept.
    add_promise(con, "R1", "A1", "2026-02-10T10:00:00Z", date(2026, 2, 25), 100)
    add_payments(con, ("P1", "A1", "2026-02-28T23:59:59Z", 100))
    # A2: due 25 Feb, paid on 1 Mar = due + 4 (UTC) -> broken in UTC; in New York the payment is on 28 Feb -> kept.
    add_promise(con, "R2", "A2", "2026-02-10T10:00:00Z", date(2026, 2, 25), 100)
    add_payments(con, ("P2", "A2", "2026-03-01T00:00:00Z", 100))
    # A3: two payments of 60 in the window, then a reversal of 30 in the window -> 90 < 100 -> broken.
    add_promise(con, "R3", "A3", "2026-02-10T10:00:00Z", date(2026, 2, 20), 100)
    add_payments(con, ("P3", "A3", "2026-02-15T12:00:00Z", 60), ("P4", "A3", "2026-02-18T12:00:00Z", 60),
                 ("P5", "A3", "2026-02-19T12:00:00Z", -30))
    # A4: one payment of 80 on 12 Feb counts for two promises of 50 and 80; a payment on 9 Feb,
    # the day before the promise was made, does not count.
    add_payments(con, ("P6", "A4", "2026-02-12T12:00:00Z", 80), ("P7", "A4", "2026-02-09T12:00:00Z", 500))
    add_promise(con, "R4", "A4", "2026-02-10T10:00:00Z", date(2026, 2, 14), 50)
    add_promise(con, "R5", "A4", "2026-02-11T23:00:00Z", date(2026, 3, 2), 80)
    # R6 (A4) made on the last second of January (UTC), due 3 March: P7 on 9 Feb (500) is within [31 Jan, 6 Mar] -> kept.
    add_promise(con, "R6", "A4", "2026-01-31T23:59:59Z", date(2026, 3, 3), 400)
    return con


def test_golden_rows_of_promises_made_due_and_kept(promises):
    # UTC: made Jan = R6; Feb = R1..R5. Due Feb = R1 (kept), R2 (broken), R3 (broken), R4 (kept);
    # due Mar = R5 (kept: P6 = 80 on 12 Feb, after its creation on 11 Feb), R6 (kept via P7).
    df = golden(promises, "scorecard_promises", "UTC", date(2026, 1, 1), MAR)
    assert df.to_dict("list") == {"month_start": [date(2026, 1, 1), FEB, MAR], "promises_made": [1, 5, 0],
                                  "promises_due": [0, 4, 2], "promises_kept": [0, 2, 2]}


def test_a_promise_is_kept_by_a_payment_on_due_date_plus_3_but_not_plus_4(promises):
    feb = scorecard.month_values(promises, "2026-02")
    assert (feb["promises_made"], feb["promises_due"]) == (5, 4)
    assert feb["promise_kept_rate_pct"] == pytest.approx(50.0)


def test_promise_dates_are_taken_in_the_reporting_zone(promises):
    # New York: R2's payment is on 28 Feb (due + 3) -> kept; R5 created 11 Feb 18:00 -> still in Feb;
    # R6 created 31 Jan 18:59 -> January. Due Feb: R1, R2, R4 kept, R3 broken -> 75%.
    feb = scorecard.month_values(promises, "2026-02", NY)
    assert feb["promise_kept_rate_pct"] == pytest.approx(75.0)
    assert feb["promises_made"] == 5


def test_a_reversal_in_the_window_counts_against_the_promise(promises):
    add_payments(promises, ("P8", "A3", "2026-02-20T12:00:00Z", 10))  # 60 + 60 - 30 + 10 = 100 -> now kept
    assert scorecard.month_values(promises, "2026-02")["promise_kept_rate_pct"] == pytest.approx(75.0)


def test_a_month_with_no_promises_due_has_an_empty_kept_rate_not_zero(promises):
    jan = scorecard.month_values(promises, "2026-01")
    assert jan["promises_due"] == 0 and jan["promise_kept_rate_pct"] is None


# --- surveys --------------------------------------------------------------------------------------

def add_survey(con, rid, ts, nps, csat):
    con.execute("insert into surveys (response_id, responded_at, nps, csat) values (?, cast(? as timestamptz), ?, ?)",
                [rid, ts, nps, csat])


@pytest.fixture
def surveys(fresh_db):
    con = fresh_db
    add_accounts(con, ("A1", date(2026, 1, 5), 100))
    # February UTC: nps 10, 9, 8, 6, 0 and one csat-only response -> promoters 2, detractors 2 -> NPS 0 over 5.
    # csat: 5, 4, 3 (+ the csat-only 2) -> 2 of 4 satisfied -> 50%.
    add_survey(con, "S1", "2026-02-01T00:00:00Z", 10, 5)
    add_survey(con, "S2", "2026-02-10T00:00:00Z", 9, 4)
    add_survey(con, "S3", "2026-02-11T00:00:00Z", 8, None)
    add_survey(con, "S4", "2026-02-12T00:00:00Z", 6, 3)
    add_survey(con, "S5", "2026-02-28T23:59:59Z", 0, None)
    add_survey(con, "S6", "2026-02-13T00:00:00Z", None, 2)
    # 1 March 00:00:00 UTC: March in UTC, 28 Feb 19:00 in New York.
    add_survey(con, "S7", "2026-03-01T00:00:00Z", 10, 5)
    return con


def test_golden_rows_of_survey_counts_per_month(surveys):
    df = golden(surveys, "scorecard_surveys", "UTC", date(2026, 1, 1), MAR)
    assert df.to_dict("list") == {
        "month_start": [date(2026, 1, 1), FEB, MAR], "nps_responses": [0, 5, 1], "nps_promoters": [0, 2, 1],
        "nps_detractors": [0, 2, 0], "csat_responses": [0, 4, 1], "csat_satisfied": [0, 2, 1]}


def test_nps_and_csat_follow_the_spec_bands(surveys):
    feb = scorecard.month_values(surveys, "2026-02")
    assert (feb["nps"], feb["nps_responses"], feb["csat_pct"], feb["csat_responses"]) == (0.0, 5, 50.0, 4)
    # New York: S1 (1 Feb 00:00Z) is 31 Jan; S7 joins February -> promoters 2 (S2, S7), detractors 2 -> 0 over 5.
    ny = scorecard.month_values(surveys, "2026-02", NY)
    assert ny["nps_responses"] == 5 and ny["nps"] == pytest.approx(0.0)
    assert ny["csat_pct"] == pytest.approx(100 * 2 / 4)  # S7 (5), S2 (4) satisfied; S4 (3), S6 (2) not


def test_a_month_without_surveys_has_empty_scores_not_zero(surveys):
    # January has an account placed (so it has data) but no responses.
    jan = scorecard.month_values(surveys, "2026-01")
    assert jan["nps"] is None and jan["csat_pct"] is None
    assert jan["nps_responses"] == 0 and jan["csat_responses"] == 0
    text = scorecard.csv_text(jan)
    assert "\nnps,\n" in text and "\ncsat_pct,\n" in text and "\nnps_responses,0\n" in text


# --- complaints -----------------------------------------------------------------------------------

def add_complaint(con, cid, received, resolved=None):
    con.execute("insert into complaints (complaint_id, received_at, resolved_at) values (?, cast(? as timestamptz), cast(? as timestamptz))",
                [cid, received, resolved])


@pytest.fixture
def complaints(fresh_db):
    con = fresh_db
    add_accounts(con, ("A1", date(2025, 12, 1), 100), ("A2", date(2026, 1, 10), 100))
    # Resolved in February (UTC): K1 after 56 days exactly (within 8 weeks), K2 after 56 days + 1 s (not),
    # K3 after 2 days, K4 after 10 days -> median of 2, 10, 56, 56.0000116 = (10 + 56) / 2 = 33 days.
    add_complaint(con, "K1", "2026-01-01T12:00:00Z", "2026-02-26T12:00:00Z")
    add_complaint(con, "K2", "2026-01-01T12:00:00Z", "2026-02-26T12:00:01Z")
    add_complaint(con, "K3", "2026-02-10T00:00:00Z", "2026-02-12T00:00:00Z")
    add_complaint(con, "K4", "2026-02-18T23:59:59Z", "2026-02-28T23:59:59Z")
    # K5 received on the last second of February, resolved exactly at 1 March 00:00:00 UTC:
    # not resolved before the end of February -> open at the end of February (UTC).
    add_complaint(con, "K5", "2026-02-28T23:59:59Z", "2026-03-01T00:00:00Z")
    # K6 received at 1 March 00:00:00 UTC -> March (UTC), never resolved.
    add_complaint(con, "K6", "2026-03-01T00:00:00Z")
    return con


def test_golden_rows_of_complaints_per_month(complaints):
    # Received: Jan K1, K2; Feb K3, K4, K5; Mar K6. Open at end of Jan: K1, K2; Feb: K5; Mar: K6.
    df = golden(complaints, "scorecard_complaints", "UTC", date(2026, 1, 1), MAR)
    assert df["complaints_received"].tolist() == [2, 3, 1]
    assert df["complaints_resolved"].tolist() == [0, 4, 1]
    assert df["resolved_within_8_weeks"].tolist() == [0, 3, 1]
    assert df["complaints_open_end_of_month"].tolist() == [2, 1, 1]
    assert pd.isna(df["resolution_days_median"][0])
    assert df["resolution_days_median"][1] == pytest.approx(33.0)


def test_complaint_metrics_for_february_in_utc(complaints):
    feb = scorecard.month_values(complaints, "2026-02")
    assert feb["complaints_received"] == 3
    assert feb["accounts_in_book"] == 2
    assert feb["complaints_per_1000_accounts"] == pytest.approx(1500.0)
    assert feb["complaints_resolved"] == 4
    assert feb["complaint_median_resolution_days"] == pytest.approx(33.0)
    assert feb["complaints_resolved_within_8_weeks_pct"] == pytest.approx(75.0)
    assert feb["complaints_open_end_of_month"] == 1


def test_complaints_in_new_york_time(complaints):
    # New York: K4 resolved 28 Feb 18:59:59 (Feb); K5 received 28 Feb 18:59:59 and resolved 28 Feb 19:00 (Feb);
    # K6 received 28 Feb 19:00 -> February, and still open at its end.
    feb = scorecard.month_values(complaints, "2026-02", NY)
    assert feb["complaints_received"] == 4
    assert feb["complaints_resolved"] == 5
    assert feb["complaints_open_end_of_month"] == 1  # K6
    # resolutions 56, 56.0000116, 2, 10, 1/86400 days -> median 10
    assert feb["complaint_median_resolution_days"] == pytest.approx(10.0)


def test_a_month_without_resolutions_has_an_empty_median_and_share(complaints):
    jan = scorecard.month_values(complaints, "2026-01")
    assert jan["complaints_resolved"] == 0
    assert jan["complaint_median_resolution_days"] is None
    assert jan["complaints_resolved_within_8_weeks_pct"] is None


# --- calls ----------------------------------------------------------------------------------------

def add_contact(con, cid, acc, ts, channel, direction, outcome):
    con.execute("insert into contacts (contact_id, account_id, ts, channel, direction, outcome) "
                "values (?, ?, cast(? as timestamptz), ?, ?, ?)", [cid, acc, ts, channel, direction, outcome])


def test_placed_calls_and_right_party_contacts_per_month(fresh_db):
    con = fresh_db
    add_accounts(con, ("A1", date(2026, 1, 5), 100))
    add_contact(con, "K1", "A1", "2026-02-28T23:59:59Z", "call", "outbound", "conversation")
    add_contact(con, "K2", "A1", "2026-02-10T12:00:00Z", "call", "outbound", "busy")
    add_contact(con, "K3", "A1", "2026-02-11T12:00:00Z", "call", "inbound", "conversation")  # not placed
    add_contact(con, "K4", "A1", "2026-02-12T12:00:00Z", "sms", "outbound", "sent")  # not a call
    add_contact(con, "K5", "A1", "2026-03-01T00:00:00Z", "call", "outbound", "no_answer")
    df = golden(con, "scorecard_calls", "UTC", date(2026, 1, 1), MAR)
    assert df.to_dict("list") == {"month_start": [date(2026, 1, 1), FEB, MAR], "calls_placed": [0, 2, 1],
                                  "calls_right_party": [0, 1, 0]}
    assert scorecard.month_values(con, "2026-02")["right_party_contact_rate_pct"] == pytest.approx(50.0)
    assert scorecard.month_values(con, "2026-03")["right_party_contact_rate_pct"] == 0.0
    # In New York K5 is on 28 Feb: 3 placed, 1 conversation.
    ny = scorecard.month_values(con, "2026-02", NY)
    assert ny["calls_placed"] == 3 and ny["right_party_contact_rate_pct"] == pytest.approx(100 / 3)
    jan = scorecard.month_values(con, "2026-01")
    assert jan["calls_placed"] == 0 and jan["right_party_contact_rate_pct"] is None


# --- breaches -------------------------------------------------------------------------------------

def test_breach_pairs_are_counted_by_their_contact_month_from_the_stored_default_table(fresh_db):
    from analysis.compliance.rules import load_rules

    con = fresh_db
    add_accounts(con, ("A1", date(2026, 1, 5), 100), ("A2", date(2026, 1, 5), 100))
    add_contact(con, "C1", "A1", "2026-02-28T23:59:59Z", "sms", "outbound", "sent")
    add_contact(con, "C2", "A1", "2026-02-03T10:00:00Z", "sms", "outbound", "sent")
    add_contact(con, "C3", "A2", "2026-03-01T00:00:00Z", "sms", "outbound", "sent")
    # The stored table says what the engine found; the scorecard only counts it (the engine has its own tests).
    con.execute("""create or replace table breaches as select * from (values
        ('C1', 'A1', 'regf_7in7', timestamptz '2026-02-28 23:59:59+00'),
        ('C1', 'A1', 'state_ma_2in7', timestamptz '2026-02-28 23:59:59+00'),
        ('C2', 'A1', 'regf_7in7', timestamptz '2026-02-03 10:00:00+00'),
        ('C3', 'A2', 'inconvenient_time', timestamptz '2026-03-01 00:00:00+00')
        ) t(contact_id, account_id, rule_id, ts)""")
    con.execute("insert into meta values ('rule_set', ?)", [load_rules().label])
    # UTC: Feb has 3 pairs on 1 account; Mar 1 pair on A2. New York: all 4 in Feb on 2 accounts.
    feb = scorecard.month_values(con, "2026-02")
    assert (feb["contact_breaches"], feb["accounts_with_breach"]) == (3, 1)
    mar = scorecard.month_values(con, "2026-03")
    assert (mar["contact_breaches"], mar["accounts_with_breach"]) == (1, 1)
    ny = scorecard.month_values(con, "2026-02", NY)
    assert (ny["contact_breaches"], ny["accounts_with_breach"]) == (4, 2)


def test_a_breaches_table_from_edited_rules_is_not_used_for_the_scorecard(fresh_db):
    con = fresh_db
    add_accounts(con, ("A1", date(2026, 1, 5), 100))
    con.execute("""create or replace table breaches as select 'C1' as contact_id, 'A1' as account_id, 'my_rule' as rule_id,
        timestamptz '2026-02-10 10:00:00+00' as ts""")
    con.execute("insert into meta values ('rule_set', 'my firm rules v2 (0123456789ab)')")
    add_contact(con, "C1", "A1", "2026-02-10T15:00:00Z", "email", "outbound", "sent")  # 09:00 in Chicago: no breach
    # The default rules find nothing in this one daytime email, whatever the stored table says.
    feb = scorecard.month_values(con, "2026-02")
    assert (feb["contact_breaches"], feb["accounts_with_breach"]) == (0, 0)


def no_engine(monkeypatch):
    """Make any run of the compliance engine fail the test (a page must only read the stored audit)."""
    import analysis.compliance.engine as engine

    def refuse(*args, **kwargs):
        raise AssertionError("the compliance engine ran")

    monkeypatch.setattr(engine, "find_breaches", refuse)


def test_the_pages_count_the_stored_audit_of_another_rule_set_and_name_it_without_running_the_engine(fresh_db, monkeypatch):
    con = fresh_db
    add_accounts(con, ("A1", date(2026, 1, 5), 100))
    con.execute("""create or replace table breaches as select 'C1' as contact_id, 'A1' as account_id, 'my_rule' as rule_id,
        timestamptz '2026-02-10 10:00:00+00' as ts""")
    con.execute("insert into meta values ('rule_set', 'my firm rules v2 (0123456789ab)')")
    add_contact(con, "C1", "A1", "2026-02-10T15:00:00Z", "email", "outbound", "sent")
    default = scorecard.month_values(con, "2026-02")  # SPEC's figure: the default rules find nothing here
    assert (default["contact_breaches"], default["accounts_with_breach"]) == (0, 0)
    no_engine(monkeypatch)
    feb = scorecard.month_values(con, "2026-02", breaches=scorecard.STORED_AUDIT)
    assert (feb["contact_breaches"], feb["accounts_with_breach"]) == (1, 1)
    card = scorecard.scorecard(con, "2026-02", breaches=scorecard.STORED_AUDIT).set_index("metric")
    assert card.loc["contact_breaches", "value"] == 1
    source = scorecard.breach_rule_set(con)
    assert source == {"label": "my firm rules v2 (0123456789ab)", "stored": True, "default": False}
    caption = scorecard.breach_caption(source)
    assert "my firm rules v2 (0123456789ab)" in caption and "not the default rule set" in caption


def test_the_stored_audit_of_the_default_rules_is_named_as_such(fresh_db, monkeypatch):
    from analysis.compliance.rules import load_rules

    con = fresh_db
    add_accounts(con, ("A1", date(2026, 1, 5), 100))
    con.execute("""create or replace table breaches as select 'C1' as contact_id, 'A1' as account_id,
        'regf_7in7' as rule_id, timestamptz '2026-02-10 10:00:00+00' as ts""")
    con.execute("insert into meta values ('rule_set', ?)", [load_rules().label])
    add_contact(con, "C1", "A1", "2026-02-10T10:00:00Z", "call", "outbound", "no_answer")
    no_engine(monkeypatch)  # neither source runs it: the stored audit is the default rules'
    for source in scorecard.BREACH_SOURCES:
        assert scorecard.month_values(con, "2026-02", breaches=source)["contact_breaches"] == 1
    found = scorecard.breach_rule_set(con)
    assert found == {"label": load_rules().label, "stored": True, "default": True}
    assert "(the default rules, config/rules.toml)" in scorecard.breach_caption(found)


def test_without_a_stored_audit_the_pages_leave_the_breach_metrics_empty(fresh_db, monkeypatch):
    con = fresh_db
    add_accounts(con, ("A1", date(2026, 1, 5), 100))
    add_contact(con, "C1", "A1", "2026-02-10T15:00:00Z", "email", "outbound", "sent")
    source = scorecard.breach_rule_set(con)
    assert source == {"label": None, "stored": False, "default": False}
    assert "no compliance audit is stored" in scorecard.breach_caption(source)
    assert scorecard.month_values(con, "2026-02")["contact_breaches"] == 0  # SPEC's: the engine, now
    no_engine(monkeypatch)
    feb = scorecard.month_values(con, "2026-02", breaches=scorecard.STORED_AUDIT)
    assert feb["contact_breaches"] is None and feb["accounts_with_breach"] is None


# --- months, output and the command line ---------------------------------------------------------

def test_a_month_with_no_data_is_a_user_error_naming_the_span(book):
    with pytest.raises(UserError, match=r"month 2031-01 has no data: the data spans 2026-01\.\.2026-03"):
        scorecard.month_values(book, "2031-01")


def test_a_quiet_month_inside_the_data_is_reported_with_zero_counts_and_empty_ratios(fresh_db):
    # Events in January and March only: February is still a month of the book, not an unknown month.
    con = fresh_db
    add_accounts(con, ("A1", date(2026, 1, 15), 1000))
    add_payments(con, ("P1", "A1", "2026-01-20T12:00:00Z", 100), ("P2", "A1", "2026-03-02T12:00:00Z", 50))
    feb = scorecard.month_values(con, "2026-02")
    assert feb["accounts_in_book"] == 1
    assert (feb["collected_amount"], feb["paying_accounts"], feb["calls_placed"]) == (0, 0, 0)
    assert feb["nps"] is None and feb["right_party_contact_rate_pct"] is None
    assert feb["recovery_rate_pct"] == pytest.approx(10.0)


@pytest.mark.parametrize("bad", ["2026-13", "2026-3", "March 2026", "", "2026-03-01"])
def test_a_month_not_in_yyyy_mm_form_is_a_user_error(book, bad):
    with pytest.raises(UserError, match="YYYY-MM"):
        scorecard.month_values(book, bad)


def test_the_csv_has_every_metric_in_spec_order_with_documented_formats(book):
    text = scorecard.csv_text(scorecard.month_values(book, "2026-02"))
    lines = text.splitlines()
    assert lines[0] == "metric,value"
    assert [ln.split(",")[0] for ln in lines[1:]] == list(scorecard.METRIC_NAMES)
    values = dict(ln.split(",") for ln in lines[1:])
    assert values["collected_amount"] == "100.00"
    assert values["accounts_in_book"] == "2"
    assert float(values["recovery_rate_pct"]) == 100 * 100 / 1500  # full precision, no rounding
    assert values["nps"] == "" and values["promise_kept_rate_pct"] == ""


def test_targets_give_red_amber_green(tmp_path):
    higher = {"target": 80, "amber": 70, "better": "higher"}
    lower = {"target": 2, "amber": 4, "better": "lower"}
    assert [scorecard.status(v, higher) for v in (80, 79.9, 70, 69.9, None)] == ["green", "amber", "amber", "red", None]
    assert [scorecard.status(v, lower) for v in (2, 2.1, 4, 4.1)] == ["green", "amber", "amber", "red"]
    targets = scorecard.load_targets()
    assert set(targets) <= set(scorecard.METRIC_NAMES) and "nps" in targets
    bad = tmp_path / "t.toml"
    bad.write_text('[nps_score]\ntarget = 1\namber = 0\nbetter = "higher"\n')
    with pytest.raises(UserError, match="unknown metric 'nps_score'"):
        scorecard.load_targets(bad)


def test_the_scorecard_table_has_previous_month_year_earlier_and_a_12_month_trend(fresh_db):
    con = fresh_db
    add_accounts(con, ("A1", date(2025, 2, 3), 1000))
    add_payments(con, ("P1", "A1", "2025-03-15T12:00:00Z", 10), ("P2", "A1", "2026-02-15T12:00:00Z", 20),
                 ("P3", "A1", "2026-03-15T12:00:00Z", 30))
    card = scorecard.scorecard(con, "2026-03").set_index("metric")
    row = card.loc["collected_amount"]
    assert (row["value"], row["previous"], row["year_earlier"]) == (30.0, 20.0, 10.0)
    # Trend: Apr 2025 .. Mar 2026; quiet months inside the data's span collected 0 (they are months of the book).
    assert row["trend"] == [0.0] * 10 + [20.0, 30.0]
    # Recovery to date 60 / 1000 = 6%: below the 10% target, above the 5% amber edge of config/targets.toml.
    assert card.loc["recovery_rate_pct", "value"] == pytest.approx(6.0)
    assert card.loc["recovery_rate_pct", "status"] == scorecard.status(6.0, scorecard.load_targets()["recovery_rate_pct"])


# --- house rules for this part of the code ----------------------------------------------------------

MY_QUERIES = ("scorecard_*.sql", "repayment*.sql", "liquidation*.sql", "promise*.sql", "balance_*.sql", "contactability*.sql")
# (that analysis/ never imports streamlit nor reads the clock is checked for the whole tree in test_house_rules.py)


def test_every_query_of_the_scorecard_repayments_and_balance_opens_with_grain_and_parameters():
    from analysis.db import QUERIES

    paths = sorted({p for pattern in MY_QUERIES for p in QUERIES.glob(pattern)})
    assert len(paths) == 29  # a new query file of these families must meet the same rules
    for path in paths:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        header = lines[:next(i for i, line in enumerate(lines) if not line.startswith("--"))]
        assert any("Grain:" in line for line in header) and any("Parameters:" in line for line in header), path.name
        assert "select * from final" in text, path.name
        code = "\n".join(line.split("--")[0] for line in lines).lower()
        assert not any(clock in code for clock in ("now()", "current_date", "current_timestamp", "today()")), path.name


def test_calls_are_assigned_to_months_exactly_in_a_zone_with_a_45_minute_offset(fresh_db):
    # Kathmandu is UTC+05:45: 18:14:59Z on 31 Jan is 23:59:59 local, 18:15:00Z is 00:00 on 1 Feb.
    # (The query counts per 15-minute bucket before converting; this pins that it stays exact.)
    con = fresh_db
    add_accounts(con, ("A1", date(2026, 1, 5), 100))
    add_contact(con, "K1", "A1", "2026-01-31T18:14:59Z", "call", "outbound", "conversation")
    add_contact(con, "K2", "A1", "2026-01-31T18:15:00Z", "call", "outbound", "no_answer")
    df = golden(con, "scorecard_calls", "Asia/Kathmandu", date(2026, 1, 1), FEB)
    assert df.to_dict("list") == {"month_start": [date(2026, 1, 1), FEB], "calls_placed": [1, 1], "calls_right_party": [1, 0]}
    assert scorecard.data_months(con, "Asia/Kathmandu") == [date(2026, 1, 1), FEB]
