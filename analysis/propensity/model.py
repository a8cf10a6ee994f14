"""The propensity-to-pay model: features as of a date, training on monthly snapshots, the out-of-time
evaluation, and the stored, versioned model (table `propensity_models`).

- A *snapshot* D is a date; its features are what is known before D 00:00 UTC
  (queries/propensity_features.sql), its label whether the account paid (amount > 0) in
  [D, D + 30 days) (queries/propensity_labels.sql).
- Training snapshots: the first day of each month from 30 days after the data's first event, whose label
  window ends on or before the as-of date (D + 30 <= as_of).
- Evaluation, out of time only: cutoff = as_of - 30 days; a model fitted on the snapshots with
  D + 30 <= cutoff is measured on the snapshot at the cutoff (labels in [cutoff, cutoff + 30 days)).
  The stored model is then refitted on every eligible snapshot.
"""
from __future__ import annotations

import hashlib
import io
import json
import pickle
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from analysis.db import query_df, query_rows, rows, set_meta, table_exists
from analysis.errors import UserError

LABEL_DAYS = 30
SEED = 24
# Training rows kept at most (a deterministic sample of the snapshots' rows beyond it): fitting time
# stays bounded on a large book; on the default demo, 80k of its 146k rows give the same AUC (0.867 vs 0.869)
# in half the time.
MAX_TRAIN_ROWS = 80_000
# The least data a model is fitted and judged on: rows, and payers and non-payers, in training and test.
MIN_ROWS = 100
MIN_CLASS = 10
CATEGORICAL = ("portfolio", "product", "strategy")
# Columns of the features query that are not features.
NOT_FEATURES = ("as_of", "account_id")
# Gradient boosting settings (DECISIONS.md "Propensity to pay"): early stopping on a seeded 10% validation
# split of the training rows. One thread: on a shared 2-core machine OpenMP's second thread made a fit
# about 1.8x slower (it waits on cores that other processes hold), and one thread gives the same model.
PARAMS = {"learning_rate": 0.1, "max_iter": 150, "max_leaf_nodes": 15, "min_samples_leaf": 40,
          "l2_regularization": 1.0, "early_stopping": True, "validation_fraction": 0.1, "n_iter_no_change": 20}
THREADS = 1
NO_MODEL = ("no propensity model in this database: train one with "
            "`python -m analysis propensity train --db FILE`")


# --- dates ---------------------------------------------------------------------------------------

def data_end(con) -> date:
    """The default as-of date: the day after the data's last event date (UTC)."""
    last = query_rows(con, "ingest_data_as_of")[0][0]
    if last is None:
        raise UserError("the database holds no events (contacts, payments, ...): import data first")
    return date.fromisoformat(last[:10]) + timedelta(days=1)


def data_start(con) -> date:
    """The UTC date of the data's first event (contacts, payments, promises, conversations)."""
    first = query_rows(con, "propensity_first_event")[0][0]
    if first is None:
        raise UserError("the database holds no events (contacts, payments, ...): import data first")
    return first


def training_snapshots(con, as_of: date) -> list[date]:
    """First days of months, at least 30 days after the first event, whose label window ends by as_of."""
    start = data_start(con) + timedelta(days=LABEL_DAYS)
    d = date(start.year, start.month, 1)
    if d < start:
        d = _next_month(d)
    found = []
    while d + timedelta(days=LABEL_DAYS) <= as_of:
        found.append(d)
        d = _next_month(d)
    return found


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


# --- features and labels -------------------------------------------------------------------------

# Account-snapshots one features query computes at most: the snapshots go in batches, so that a large
# book's training stays within DuckDB's memory limit (the demo build's 3 GB: 14 snapshots of 200k
# accounts in one query ran out of it) while a small one's takes one query.
BATCH_ROWS = 500_000
# Account-snapshots (accounts x snapshots, an upper bound of the rows) training reads at most: on a larger
# book it reads a deterministic sample of one account in n (queries/semantic/macros.sql `in_sample`), the
# same accounts at every snapshot, for the model and its evaluation alike. Every account-snapshot of
# the book would cost a scan of every contact per snapshot (1M accounts: ~15 scans of 50M contacts and
# ~12 GB) to fit a model on MAX_TRAIN_ROWS of them; the default demo (20,000 accounts) is not sampled.
TRAIN_POOL = 400_000


def sample_size(con, snapshots: int) -> int:
    """n of the training sample (one account in n; 1: every account) for this many snapshots."""
    accounts = rows(con, "select count(*) from accounts")[0][0]
    return max(1, -(-accounts * snapshots // TRAIN_POOL))


def snapshot_features(con, snapshots: list[date], sample: int = 1) -> pd.DataFrame:
    """Features of every open account (of the sample: one in `sample`) at each snapshot:
    `as_of, account_id, balance, <features>`."""
    accounts = max(1, rows(con, "select count(*) from accounts")[0][0] // sample)
    size = max(1, BATCH_ROWS // accounts)
    parts = [query_df(con, "propensity_features",
                      {"snapshots": [d.isoformat() for d in snapshots[i:i + size]], "sample": sample})
             for i in range(0, len(snapshots), size)]
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def features(con, as_of: date) -> pd.DataFrame:
    """One row per open account at as_of: `account_id, balance, <features...>`, from rows before as_of."""
    return snapshot_features(con, [as_of]).drop(columns=["as_of"]).reset_index(drop=True)


def labelled(con, snapshots: list[date], sample: int = 1) -> pd.DataFrame:
    """The snapshots' features with `paid` (bool): a payment of amount > 0 in [D, D + 30 days)."""
    frame = snapshot_features(con, snapshots, sample)
    paid = query_df(con, "propensity_labels", {"snapshots": [d.isoformat() for d in snapshots]})
    paid["paid"] = True
    frame = frame.merge(paid, on=["as_of", "account_id"], how="left")
    frame["paid"] = frame["paid"].fillna(False).astype(bool)
    return frame


# --- the model -----------------------------------------------------------------------------------

@dataclass
class Model:
    """A fitted model: the estimator, its feature columns and the categories each categorical one had."""
    estimator: object
    feature_names: list[str]
    categories: dict[str, list[str]]
    model_id: str = ""
    as_of: date | None = None
    evaluation: dict = field(default_factory=dict)
    created_at: object = None

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """The estimator's input: numbers as float (booleans 0/1, nulls NaN), categories as their code in
        the training categories (an unseen one NaN, as a missing value)."""
        cols = []
        for name in self.feature_names:
            col = frame[name]
            if name in self.categories:  # the position in the training categories (3x a dict's map at 1M rows)
                codes = pd.Index(self.categories[name]).get_indexer(col).astype("float64")
                codes[codes < 0] = np.nan
                cols.append(codes)
            else:  # float, int, nullable Int64 and bool columns of the features query
                cols.append(col.to_numpy(dtype="float64", na_value=np.nan))
        return np.column_stack(cols) if cols else np.empty((len(frame), 0))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """The probability of a payment in the next 30 days, for each row of a features frame."""
        if len(frame) == 0:
            return np.empty(0)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(THREADS):
            return self.estimator.predict_proba(self.matrix(frame))[:, 1]

    def blob(self) -> bytes:
        """The serialized model (what its id and checksum are of)."""
        buf = io.BytesIO()
        import sklearn

        pickle.dump({"estimator": self.estimator, "feature_names": self.feature_names,
                     "categories": self.categories, "sklearn": sklearn.__version__}, buf, protocol=5)
        return buf.getvalue()


def feature_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in NOT_FEATURES and c != "paid"]


def fit(frame: pd.DataFrame, seed: int = SEED, labels: np.ndarray | None = None) -> Model:
    """Fit a model on labelled snapshot rows (`labels` in place of `frame.paid`, e.g. shuffled)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    y = frame["paid"].to_numpy(bool) if labels is None else np.asarray(labels, dtype=bool)
    names = feature_columns(frame)
    categories = {c: sorted(frame[c].dropna().astype(str).unique().tolist()) for c in CATEGORICAL if c in names}
    model = Model(None, names, categories)
    x = model.matrix(frame)
    estimator = HistGradientBoostingClassifier(
        categorical_features=np.array([n in categories for n in names], dtype=bool), random_state=seed, **PARAMS)
    with threadpool_limits(THREADS):
        estimator.fit(x, y)
    model.estimator = estimator
    return model


def subsample(frame: pd.DataFrame, limit: int = MAX_TRAIN_ROWS, seed: int = SEED) -> pd.DataFrame:
    """At most `limit` rows, the same ones for the same data (rows come ordered by as_of, account_id)."""
    if len(frame) <= limit:
        return frame
    keep = np.sort(np.random.default_rng(seed).choice(len(frame), size=limit, replace=False))
    return frame.iloc[keep].reset_index(drop=True)


# --- evaluation ----------------------------------------------------------------------------------

def evaluate(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict:
    """AUC, top-decile lift (payment rate of the 10% scored highest / the base rate) and a calibration
    table over `bins` equal-count bins of the predicted probability (bin 1 lowest)."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y, dtype=bool)
    p = np.asarray(p, dtype=float)
    order = np.lexsort((np.arange(len(p)), -p))  # highest first; ties in row order
    top = order[: max(1, int(round(len(p) * 0.1)))]
    base = float(y.mean())
    calibration = []
    for i, idx in enumerate(np.array_split(order[::-1], bins), start=1):
        if len(idx):
            calibration.append({"bin": i, "n": int(len(idx)), "mean_predicted": float(p[idx].mean()),
                                "observed_rate": float(y[idx].mean())})
    return {"auc": float(roc_auc_score(y, p)), "top_decile_lift": float(y[top].mean() / base) if base else None,
            "top_decile_rate": float(y[top].mean()), "base_rate": base, "calibration": calibration}


def sample_note(evaluation: dict) -> str:
    """", accounts: a sample of one in n" when training read a sample of the book (model.TRAIN_POOL)."""
    n = evaluation.get("account_sample", 1)
    return f"; accounts: a sample of one in {n}" if n > 1 else ""


def _check(frame: pd.DataFrame, what: str, as_of: date) -> None:
    n, pos = len(frame), int(frame["paid"].sum())
    if n < MIN_ROWS or pos < MIN_CLASS or n - pos < MIN_CLASS:
        raise UserError(f"too little history to {what} a propensity model as of {as_of}: {n} account-snapshots, "
                        f"{pos} with a payment (need {MIN_ROWS}, with at least {MIN_CLASS} payers and "
                        f"{MIN_CLASS} non-payers): use a later --as-of or import more history")


def train(con, as_of: date, seed: int = SEED, shuffle_labels: bool = False) -> Model:
    """Evaluate out of time, then fit the stored model on every eligible snapshot (not stored here).
    `shuffle_labels`: permute the training labels (a check that the evaluation is honest)."""
    start = data_start(con)
    if as_of <= start:
        raise UserError(f"--as-of {as_of} is not after the data's first event ({start}): choose a later date")
    cutoff = as_of - timedelta(days=LABEL_DAYS)
    snaps = training_snapshots(con, as_of)
    train_snaps = [d for d in snaps if d + timedelta(days=LABEL_DAYS) <= cutoff]
    if not train_snaps:
        raise UserError(f"too little history to train a propensity model as of {as_of}: it needs a month of "
                        f"labels before {cutoff} (the data starts on {start}); use a later --as-of")
    dates = sorted(set(snaps) | {cutoff})
    sample = sample_size(con, len(dates))
    every = labelled(con, dates, sample)
    rng = np.random.default_rng(seed + 1)

    def labels(frame):
        y = frame["paid"].to_numpy(bool)
        return rng.permutation(y) if shuffle_labels else y

    train_rows = subsample(every[every["as_of"].isin(pd.to_datetime(train_snaps))].reset_index(drop=True))
    test_rows = every[every["as_of"] == pd.Timestamp(cutoff)].reset_index(drop=True)
    _check(train_rows, "train", as_of)
    _check(test_rows, "evaluate", as_of)
    held = fit(train_rows, seed, labels(train_rows))
    evaluation = evaluate(test_rows["paid"].to_numpy(bool), held.predict(test_rows))
    evaluation.update({"cutoff": cutoff.isoformat(), "n_train": int(len(train_rows)), "n_test": int(len(test_rows)),
                       "train_snapshots": [d.isoformat() for d in train_snaps],
                       "test_positives": int(test_rows["paid"].sum()), "shuffled_labels": shuffle_labels,
                       "account_sample": sample})
    all_rows = subsample(every[every["as_of"].isin(pd.to_datetime(snaps))].reset_index(drop=True))
    model = fit(all_rows, seed, labels(all_rows))
    evaluation.update({"n_final": int(len(all_rows)), "final_snapshots": [d.isoformat() for d in snaps]})
    model.as_of = as_of
    model.evaluation = evaluation
    model.model_id = f"propensity-{as_of.isoformat()}-{hashlib.sha256(model.blob()).hexdigest()[:12]}"
    return model


# --- storage -------------------------------------------------------------------------------------

def store_model(con, model: Model) -> None:
    """Add the model to `propensity_models` (a writable connection; the id replaces an equal one)."""
    blob = model.blob()
    con.execute("delete from propensity_models where model_id = ?", [model.model_id])
    con.execute("insert into propensity_models values (?, ?, now(), ?, ?, ?, ?)",
                [model.model_id, model.as_of, json.dumps(model.feature_names), json.dumps(model.evaluation),
                 blob, hashlib.sha256(blob).hexdigest()])


def latest_model(con) -> Model | None:
    """The most recently stored model (by created_at, then as_of), checksum verified; None when none is."""
    if not table_exists(con, "propensity_models"):
        return None
    found = rows(con, "select model_id from propensity_models order by created_at desc, as_of desc, model_id limit 1")
    return load_model(con, found[0][0]) if found else None


def load_model(con, model_id: str) -> Model:
    found = rows(con, "select model_id, as_of, strftime(created_at, '%Y-%m-%dT%H:%M:%SZ'), features, evaluation, model, sha256 "
                      "from propensity_models where model_id = ?", [model_id])
    if not found:
        raise UserError(f"no propensity model {model_id} in this database")
    model_id, as_of, created_at, names, evaluation, blob, sha = found[0]
    blob = bytes(blob)
    if hashlib.sha256(blob).hexdigest() != sha:
        raise UserError(f"the stored propensity model {model_id} fails its checksum: train a new one with "
                        "`python -m analysis propensity train --db FILE`")
    import sklearn

    try:
        parts = pickle.loads(blob)  # noqa: S301 - our own blob, its sha256 checked above
    except Exception as exc:  # noqa: BLE001 - a blob from another version of the code or its libraries
        raise UserError(f"the stored propensity model {model_id} cannot be read by this version ({type(exc).__name__}): "
                        "train a new one with `python -m analysis propensity train --db FILE`") from None
    if parts.get("sklearn") != sklearn.__version__:  # a pickled estimator is only good in its own version
        raise UserError(f"the stored propensity model {model_id} was trained with scikit-learn {parts.get('sklearn')}, "
                        f"this is {sklearn.__version__}: train a new one with `python -m analysis propensity train --db FILE`")
    return Model(parts["estimator"], parts["feature_names"], parts["categories"], model_id, as_of,
                 json.loads(evaluation), created_at)


def score(con, as_of: date, model: Model | None = None) -> pd.DataFrame:
    """`account_id, propensity, balance, expected_collection` for every account open at as_of, by
    `model` (None: the latest stored one). Reads only; works on a read-only connection."""
    model = model or latest_model(con)
    if model is None:
        raise UserError(NO_MODEL)
    frame = features(con, as_of)
    p = model.predict(frame)
    balance = frame["balance"].to_numpy(float)
    return pd.DataFrame({"account_id": frame["account_id"].astype(str).to_numpy(), "propensity": p,
                         "balance": balance, "expected_collection": p * balance})


def store_scores(con, model: Model, as_of: date, scores: pd.DataFrame) -> None:
    """Replace `propensity_scores` with these scores (the table holds the latest scoring run). The plan
    for their date is the pipeline's next step (analysis.plan.build.refresh)."""
    cur = con.cursor()
    try:
        cur.register("scores_df", scores)
        cur.execute("delete from propensity_scores")
        cur.execute("insert into propensity_scores select ?, ?, account_id, propensity, balance, expected_collection "
                    "from scores_df", [model.model_id, as_of])
        cur.unregister("scores_df")
    finally:
        cur.close()
    set_meta(con, "propensity_scored", f"{model.model_id} as of {as_of.isoformat()}")


def rescore(con) -> None:
    """The pipeline step: re-score every open account at the data's end with the latest stored model
    (nothing when no model is stored, or no events)."""
    model = latest_model(con)
    if model is None or query_rows(con, "ingest_data_as_of")[0][0] is None:
        return
    as_of = data_end(con)
    store_scores(con, model, as_of, score(con, as_of, model))
