"""`python -m analysis propensity train|score --db FILE [--as-of YYYY-MM-DD]`.

train: evaluates out of time, fits on every eligible month, stores the model (`propensity_models`) in a
new database version, and prints the evaluation. score: scores every open account as of the date with
the latest stored model and replaces `propensity_scores` (a new database version).
"""
from __future__ import annotations

import sys
import time
from datetime import date

from analysis.errors import UserError


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
    for name, text in (("train", "train and store a propensity-to-pay model on what is known before the date"),
                       ("score", "score every open account as of the date with the latest stored model")):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("--db", required=True, help="database file")
        p.add_argument("--as-of", dest="as_of", default=None,
                       help="YYYY-MM-DD: use what is known before this date, 00:00 UTC (default: the day after "
                            "the data's last event)")


def parse_as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--as-of {text!r} is not a date: use YYYY-MM-DD, e.g. 2026-10-01") from None


def _as_of(con, given: date | None) -> date:
    from analysis.propensity.model import data_end, data_start

    end = data_end(con)
    if given is None:
        return end
    start = data_start(con)
    if given <= start:
        raise UserError(f"--as-of {given} is not after the data's first event ({start}): choose a date "
                        f"between {start} and {end}")
    if given > end:
        raise UserError(f"--as-of {given} is after the data's end ({end}): choose a date up to {end}")
    return given


def _open(db):
    from analysis import store

    if store.current(db) is None:
        raise UserError(f"database {db} does not exist: build it with `python -m analysis demo --db {db}` or "
                        f"import your data with `python -m analysis ingest DIR --db {db}`")


def _ensure_tables(con) -> None:
    """The model and score tables, in a database made before they were declared (analysis.schema)."""
    from analysis.schema import derived_ddl

    for name in ("propensity_models", "propensity_scores"):
        con.execute(derived_ddl(name))


def train_and_store(con, as_of: date | None = None, *, score_too: bool = False):
    """Train on a writable connection, store the model (and, with score_too, its scores at as_of; the
    caller stores the contact plan from them, analysis.plan.build.refresh)."""
    from analysis.propensity.model import score, store_model, store_scores, train

    as_of = _as_of(con, as_of)
    model = train(con, as_of)
    _ensure_tables(con)
    store_model(con, model)
    scores = None
    if score_too:
        scores = score(con, as_of, model)
        store_scores(con, model, as_of, scores)
    return model, scores


def format_evaluation(model) -> str:
    from analysis.propensity.model import sample_note

    e = model.evaluation
    lines = [
        f"model {model.model_id} (as of {model.as_of})",
        f"out-of-time evaluation: trained on {e['n_train']:,} account-months ({e['train_snapshots'][0]} .. "
        f"{e['train_snapshots'][-1]}), tested on {e['n_test']:,} open accounts at {e['cutoff']} "
        f"({e['test_positives']:,} paid within 30 days)" + sample_note(e),
        f"  AUC {e['auc']:.3f}   top-decile lift {e['top_decile_lift']:.2f}x "
        f"(top 10%: {e['top_decile_rate']:.1%} paid, base rate {e['base_rate']:.1%})",
        "  calibration (10 equal-count bins of the predicted probability):",
        "    bin      n  predicted  observed",
    ]
    lines += [f"    {b['bin']:>3} {b['n']:>6}  {b['mean_predicted']:>9.3f}  {b['observed_rate']:>8.3f}"
              for b in e["calibration"]]
    lines.append(f"stored model fitted on {e['n_final']:,} account-months ({e['final_snapshots'][0]} .. "
                 f"{e['final_snapshots'][-1]})")
    return "\n".join(lines)


def run(args) -> int:
    from analysis import store
    from analysis.db import connect
    from analysis.propensity.model import latest_model, score, store_scores

    _open(args.db)
    given = parse_as_of(args.as_of)
    t0 = time.perf_counter()
    if args.action == "train":
        with store.writing(args.db) as con:
            model, _ = train_and_store(con, given)
        print(format_evaluation(model))
        print(f"trained in {time.perf_counter() - t0:.1f}s; stored in propensity_models", file=sys.stderr)
        return 0
    reader = connect(args.db, read_only=True)
    try:  # refuse before copying the database when there is nothing to score with
        as_of = _as_of(reader, given)
        if latest_model(reader) is None:
            from analysis.propensity.model import NO_MODEL

            raise UserError(NO_MODEL)
    finally:
        reader.close()
    from analysis.plan.build import refresh as store_plan

    with store.writing(args.db) as con:  # a new version of the database: copied here, published at the end
        model = latest_model(con)
        t1 = time.perf_counter()
        scores = score(con, as_of, model)
        store_scores(con, model, as_of, scores)
        scoring = time.perf_counter() - t1
        t1 = time.perf_counter()
        planned = store_plan(con)
        planning = time.perf_counter() - t1
    print(f"scored {len(scores):,} open accounts as of {as_of} with {model.model_id}: mean propensity "
          f"{scores['propensity'].mean() if len(scores) else 0:.3f}, expected collection "
          f"{scores['expected_collection'].sum():,.2f} of balance {scores['balance'].sum():,.2f}")
    print(f"scored in {scoring:.1f}s (features, model, propensity_scores); the contact plan for {as_of} "
          f"({planned or 0:,} rows, contact_plan) in {planning:.1f}s; {time.perf_counter() - t0:.1f}s in all",
          file=sys.stderr)
    return 0
