"""Propensity to pay (issue 24): the features read nothing at or after the as-of date, the out-of-time
evaluation is honest (a model of shuffled labels scores AUC near 0.5, the real one clearly more), the
train/score commands round-trip through the database, and users' mistakes are one-line refusals."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analysis import db, propensity
from analysis.__main__ import main
from analysis.errors import UserError

AS_OF = date(2026, 11, 1)  # the demo's data end (its last event is on 2026-10-31)
MID = date(2026, 6, 17)  # a date inside the demo's history, not a snapshot date


def _features(path, as_of):
    con = db.connect(path, read_only=True)
    try:
        return propensity.features(con, as_of)
    finally:
        con.close()


def _scalar(path, sql, params=None):
    con = db.connect(path, read_only=True)
    try:
        return db.rows(con, sql, params)[0][0]
    finally:
        con.close()


# --- no leakage ----------------------------------------------------------------------------------

# Every row of every table the features read whose timestamp is at or after D 00:00 UTC ($d).
DELETE_FUTURE = [
    "delete from vulnerability_flags where conversation_id in (select conversation_id from conversations where started_at >= $d)",
    "delete from conversation_sentiment where started_at >= $d",
    "delete from conversations where started_at >= $d",
    "delete from contacts where ts >= $d",
    "delete from payments where paid_at >= $d",
    "delete from promises where created_at >= $d",
    "delete from complaints where received_at >= $d",
    "update complaints set resolved_at = null where resolved_at >= $d",
    "delete from preferences where opted_out_at >= $d",
    "delete from consents where given_at >= $d",
    "delete from accounts where placed_date >= cast($d as date)",
]
# The future changed instead: payments after D tripled and moved, every complaint open at D resolved an
# hour after it, a flood of right-party calls and a consent and a cease request at D.
ALTER_FUTURE = [
    "update payments set amount = amount * 3, paid_at = paid_at + interval 2 day where paid_at >= $d",
    "update complaints set resolved_at = $d + interval 1 hour where received_at < $d "
    "and (resolved_at is null or resolved_at >= $d)",
    "insert into contacts select contact_id || '-future', account_id, $d + interval 1 minute, 'call', 'outbound', "
    "'conversation', agent_id, 60 from contacts",
    "insert into consents select distinct account_id, $d from accounts",
    "insert into preferences select distinct account_id, 'all', $d from accounts",
    "insert into payments select payment_id || '-future', account_id, $d, 5, 'card' from payments",
]


@pytest.mark.parametrize("as_of", [MID, date(2026, 9, 1)])
@pytest.mark.parametrize("change", [DELETE_FUTURE, ALTER_FUTURE], ids=["future deleted", "future altered"])
def test_no_feature_reads_a_row_at_or_after_the_as_of_date(demo_db_copy, as_of, change):
    before = _features(demo_db_copy, as_of)
    assert len(before) > 100 and before["payments_ever"].sum() > 0 and before["rpc_c90"].sum() > 0
    con = db.connect(demo_db_copy)
    try:
        d = pd.Timestamp(as_of, tz="UTC").isoformat()
        for statement in change:
            con.execute(statement.replace("$d", "cast($d as timestamptz)"), {"d": d})
    finally:
        con.close()
    after = _features(demo_db_copy, as_of)
    pd.testing.assert_frame_equal(before, after, check_exact=True)


def test_the_label_is_the_next_30_days_and_not_a_feature(demo_db):
    con = db.connect(demo_db, read_only=True)
    try:
        frame = propensity.labelled(con, [MID])
        paid = db.rows(con, """select count(distinct account_id) from payments where amount > 0
                               and paid_at >= cast($d as timestamptz) and paid_at < cast($d as timestamptz) + interval 30 day
                               and account_id in (select unnest($ids))""",
                       {"d": MID.isoformat(), "ids": frame["account_id"].tolist()})[0][0]
        columns = propensity.features(con, MID).columns
    finally:
        con.close()
    assert int(frame["paid"].sum()) == paid > 0
    assert "paid" not in columns and "as_of" not in columns and list(columns[:2]) == ["account_id", "balance"]


# --- an honest evaluation ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def larger_demo(tmp_path_factory):
    """A 2,500-account demo: enough open accounts (~2,300 in the test month) for AUC to be measured
    to about +-0.02. (VADER scores its texts: the transformer is not what these tests are about.)"""
    from analysis.demo import build

    path = tmp_path_factory.mktemp("propensity") / "demo.duckdb"
    build(path, accounts=2500, seed=11, progress=False, sentiment_model="vader")
    return path


def test_shuffled_labels_score_auc_near_one_half_and_the_real_model_clearly_more(larger_demo):
    con = db.connect(larger_demo, read_only=True)
    try:
        real = propensity.train(con, AS_OF).evaluation
        shuffled = [propensity.train(con, AS_OF, seed=s, shuffle_labels=True).evaluation for s in (1, 2, 3)]
    finally:
        con.close()
    aucs = [e["auc"] for e in shuffled]
    assert all(0.4 <= a <= 0.6 for a in aucs), aucs
    assert 0.45 <= float(np.mean(aucs)) <= 0.55, aucs
    assert real["auc"] >= 0.75 and real["auc"] >= max(aucs) + 0.2, (real["auc"], aucs)
    assert real["top_decile_lift"] >= 2.5
    assert all(e["shuffled_labels"] for e in shuffled) and not real["shuffled_labels"]
    # out of time: trained on months whose 30-day labels end by the cutoff, tested at the cutoff
    assert real["cutoff"] == "2026-10-02"
    assert all(date.fromisoformat(d).toordinal() + 30 <= date(2026, 10, 2).toordinal() for d in real["train_snapshots"])
    assert real["n_test"] > 2000


def test_training_on_a_large_book_reads_a_sample_of_accounts_with_their_full_features(larger_demo, monkeypatch):
    from analysis.propensity import model as pm

    snaps = [date(2026, 6, 1), date(2026, 8, 1), date(2026, 10, 2)]
    con = db.connect(larger_demo, read_only=True)
    try:
        every = pm.snapshot_features(con, snaps)
        some = pm.snapshot_features(con, snaps, sample=4)
        monkeypatch.setattr(pm, "TRAIN_POOL", 2_000)  # 2,500 accounts x 15 snapshots: one account in 19
        assert pm.sample_size(con, 15) == 19 and pm.sample_size(con, 1) == 2 and pm.sample_size(con, 0) == 1
        sampled = pm.train(con, AS_OF).evaluation
    finally:
        con.close()
    # about one account in four, the same accounts at every snapshot, each with the features it has unsampled
    accounts = set(some["account_id"])
    assert 0.15 < len(accounts) / every["account_id"].nunique() < 0.35
    for day in snaps:
        at = some[some["as_of"] == pd.Timestamp(day)]
        assert set(at["account_id"]) == accounts & set(every.loc[every["as_of"] == pd.Timestamp(day), "account_id"])
    mine = every[every["account_id"].isin(accounts)].reset_index(drop=True)
    pd.testing.assert_frame_equal(some.reset_index(drop=True), mine)
    # the evaluation says so, and is measured on the sample's accounts open at the cutoff
    dates = len(set(sampled["final_snapshots"]) | {sampled["cutoff"]})  # the snapshots training read
    assert sampled["account_sample"] == -(-2_500 * dates // 2_000) > 10
    assert 50 < sampled["n_test"] < 300


def test_the_evaluation_figures():
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1] * 10, dtype=bool)
    p = np.where(y, 0.9, 0.1) + np.arange(100) / 1e4
    e = propensity.evaluate(y, p)
    assert e["auc"] == 1.0 and e["base_rate"] == 0.2
    assert e["top_decile_lift"] == pytest.approx(5.0) and e["top_decile_rate"] == 1.0
    assert [b["bin"] for b in e["calibration"]] == list(range(1, 11))
    assert sum(b["n"] for b in e["calibration"]) == 100
    assert e["calibration"][-1]["observed_rate"] == 1.0 and e["calibration"][0]["observed_rate"] == 0.0


# --- the commands round-trip ------------------------------------------------------------------------


def test_train_and_score_round_trip_through_the_database(demo_db_copy, capsys):
    built = _scalar(demo_db_copy, "select model_id from propensity_models")  # the demo build trained one
    assert main(["propensity", "train", "--db", str(demo_db_copy)]) == 0
    out = capsys.readouterr().out
    assert "AUC" in out and "top-decile lift" in out and "calibration" in out
    con = db.connect(demo_db_copy, read_only=True)
    try:
        model = propensity.latest_model(con)
        open_accounts = len(propensity.features(con, AS_OF))
    finally:
        con.close()
    # seeded: the same data gives the same model, whoever trains it
    assert model.model_id == built and model.model_id in out
    assert model.model_id.startswith("propensity-2026-11-01-") and model.as_of == AS_OF
    assert _scalar(demo_db_copy, "select count(*) from propensity_models") == 1
    e = model.evaluation
    assert 0.5 < e["auc"] <= 1 and e["n_train"] > 0 and e["n_test"] > 0 and len(e["calibration"]) == 10
    assert set(e["calibration"][0]) == {"bin", "n", "mean_predicted", "observed_rate"}

    assert main(["propensity", "score", "--db", str(demo_db_copy), "--as-of", "2026-09-01"]) == 0
    assert f"with {model.model_id}" in capsys.readouterr().out
    assert _scalar(demo_db_copy, "select count(*) from propensity_scores where as_of = date '2026-09-01'") == \
        len(_features(demo_db_copy, date(2026, 9, 1)))
    # the command stores the plan for the scores' date too (the page opens on it)
    assert db.rows(db.connect(demo_db_copy, read_only=True),
                   "select distinct as_of, model_id from contact_plan") == [(date(2026, 9, 1), model.model_id)]
    assert main(["propensity", "score", "--db", str(demo_db_copy)]) == 0
    con = db.connect(demo_db_copy, read_only=True)  # score() reads only: a read-only connection will do
    try:
        fresh = propensity.score(con, AS_OF)
        stored = db.sql_df(con, "select account_id, propensity, balance, expected_collection from propensity_scores "
                                "where model_id = $m order by account_id", {"m": model.model_id})
    finally:
        con.close()
    assert list(fresh.columns) == ["account_id", "propensity", "balance", "expected_collection"]
    assert len(fresh) == len(stored) == open_accounts
    pd.testing.assert_frame_equal(fresh.sort_values("account_id").reset_index(drop=True), stored, check_dtype=False)
    assert fresh["propensity"].between(0, 1).all() and (fresh["balance"] > 0).all()
    assert np.allclose(fresh["expected_collection"], fresh["propensity"] * fresh["balance"])


def test_a_refresh_rescores_with_the_stored_model_and_does_nothing_without_one(demo_db_copy):
    from analysis.pipeline import refresh

    con = db.connect(demo_db_copy)
    try:
        model_id = db.rows(con, "select model_id from propensity_models")[0][0]
        con.execute("delete from propensity_scores")
        con.execute("delete from contact_plan")
        refresh(con, progress=False)
        assert db.rows(con, "select count(*), min(model_id), min(as_of) from propensity_scores") == \
            [(len(propensity.features(con, AS_OF)), model_id, AS_OF)]
        # the pipeline's next step stores the plan for the new scores
        assert db.rows(con, "select distinct as_of, model_id from contact_plan") == [(AS_OF, model_id)]
        con.execute("delete from propensity_models")
        con.execute("delete from propensity_scores")
        con.execute("delete from contact_plan")
        refresh(con, progress=False)
        assert db.rows(con, "select count(*) from propensity_scores") == [(0,)]
        assert db.rows(con, "select count(*) from contact_plan") == [(0,)]
    finally:
        con.close()


def test_a_tampered_model_is_refused(demo_db_copy):
    con = db.connect(demo_db_copy)
    try:
        con.execute("update propensity_models set model = model || 'x'::blob")
        with pytest.raises(UserError, match="checksum"):
            propensity.latest_model(con)
    finally:
        con.close()


# --- refusals ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["train", "--as-of", "2026-02-30"], "is not a date"),
    (["score", "--as-of", "yesterday"], "is not a date"),
    (["train", "--as-of", "2024-01-01"], "is not after the data's first event"),
    (["score", "--as-of", "2024-01-01"], "is not after the data's first event"),
    (["train", "--as-of", "2027-01-01"], "is after the data's end (2026-11-01)"),
    (["train", "--as-of", "2025-10-20"], "too little history"),
])
def test_bad_input_is_a_one_line_refusal(demo_db_copy, capsys, args, message):
    assert main(["propensity", *args[:1], "--db", str(demo_db_copy), *args[1:]]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_an_unknown_database_and_no_model_are_refused(demo_db_copy, tmp_path, capsys):
    assert main(["propensity", "score", "--db", str(tmp_path / "missing.duckdb")]) == 2
    assert "does not exist" in capsys.readouterr().err
    con = db.connect(demo_db_copy)
    con.execute("delete from propensity_models")
    con.close()
    assert main(["propensity", "score", "--db", str(demo_db_copy)]) == 2
    err = capsys.readouterr().err
    assert "no propensity model in this database: train one with" in err and err.count("\n") == 1
    con = db.connect(demo_db_copy, read_only=True)
    try:
        with pytest.raises(UserError, match="no propensity model"):
            propensity.score(con, AS_OF)
    finally:
        con.close()


def test_a_database_without_events_cannot_train(tmp_path, capsys):
    from analysis import store
    from analysis.schema import create_schema

    path = tmp_path / "empty.duckdb"
    with store.writing(path, fresh=True) as con:
        create_schema(con)
    assert main(["propensity", "train", "--db", str(path)]) == 2
    assert "holds no events" in capsys.readouterr().err


def test_a_plan_that_fails_to_store_leaves_the_stored_plan_as_it_was(demo_db_copy, monkeypatch):
    """store_plan replaces contact_plan in one transaction: a failure while inserting the new plan (here
    the plan's query made to fail when it runs) rolls its delete back, and the old plan stays."""
    import duckdb

    from analysis.plan import build

    con = db.connect(demo_db_copy)
    try:
        before = db.rows(con, "select count(*), min(model_id), min(as_of), sum(hash(account_id, channel, rank)) "
                              "from contact_plan")
        assert before[0][0] > 0
        failing = build.sql_text("plan_rows").replace(
            "select * from final", "select * from final where error('injected failure') is null")
        monkeypatch.setattr(build, "sql_text", lambda stem: failing)
        with pytest.raises(duckdb.Error, match="injected failure"):
            build.refresh(con)
        assert db.rows(con, "select count(*), min(model_id), min(as_of), sum(hash(account_id, channel, rank)) "
                            "from contact_plan") == before
    finally:
        con.close()


def test_a_demo_whose_plan_does_not_fit_keeps_its_model_and_scores(demo_db_copy, monkeypatch, capsys):
    """The 1M-account demo's plan ran out of the build's memory limit: the build keeps the model and its
    scores (the page plans on its own) and says which command stores a plan."""
    import duckdb

    from analysis import demo
    from analysis.plan import build

    def out_of_memory(con):
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")

    monkeypatch.setattr(build, "refresh", out_of_memory)
    con = db.connect(demo_db_copy)
    try:
        for table in ("contact_plan", "propensity_scores", "propensity_models"):
            con.execute(f"delete from {table}")
        demo._propensity(con, progress=True)
        assert db.rows(con, "select count(*) from propensity_models") == [(1,)]
        assert db.rows(con, "select count(*) from propensity_scores")[0][0] == len(propensity.features(con, AS_OF))
        assert db.rows(con, "select count(*) from contact_plan") == [(0,)]
    finally:
        con.close()
    err = capsys.readouterr().err
    assert "no stored contact plan" in err and "propensity score --db" in err and "Traceback" not in err
