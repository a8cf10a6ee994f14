"""Speed of the propensity-to-pay model (issue 24): `propensity train` and `propensity score` end to end.

On a copy of a demo database (`--db`, default: builds one of `--accounts` accounts into a temporary
folder), times, each as the command a user runs (a new process, the database version written and
published): `python -m analysis propensity train` and `propensity score`; and, in process,
`analysis.propensity.score` on a read-only connection (what the plan pays). Against baselines in the
same run: DuckDB reading the contacts table (a count and a group-by over every contact, the rows the
features read), the features query alone, and a process that only imports scikit-learn's booster.
The issue's target: scoring every open account of the 1M-account demo in <= 60 s.

Prints wall-clock seconds, the CPU seconds of each command (user + system; on a shared machine the
wall clock moves with other load, the CPU time much less) and the load average before and after.

    .venv/bin/python benchmarks/bench_propensity.py [--db FILE] [--accounts 20000] [--seed 42] [--skip-train]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis import propensity  # noqa: E402
from analysis.db import connect, rows  # noqa: E402


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def command(label: str, args: list[str]) -> float:
    """Run `python -m analysis ...` in a new process: wall and CPU seconds, output shown."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{label} failed: {done.stderr.strip()}")
    print(f"{label:<58} {wall:7.2f} s wall {cpu:7.2f} s cpu   (load {load()})")
    for line in done.stdout.strip().splitlines()[:4]:
        print(f"    {line}")
    for line in done.stderr.strip().splitlines()[-1:]:  # the command's own timing (score: scoring, then the plan)
        print(f"    {line}")
    return wall


def timed(label: str, func, *args):
    t0 = time.perf_counter()
    result = func(*args)
    print(f"{label:<58} {time.perf_counter() - t0:7.2f} s wall                (load {load()})")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a demo database (copied: the benchmark writes new versions of the copy)")
    parser.add_argument("--accounts", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-train", action="store_true", help="score with the model the database holds")
    args = parser.parse_args()
    print(f"load before: {load()}")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        db = Path(tmp) / "demo.duckdb"
        if args.db:
            shutil.copyfile(os.path.realpath(args.db), db)
        else:
            from analysis.demo import build

            timed(f"build demo ({args.accounts:,} accounts, with training)",
                  lambda: build(db, accounts=args.accounts, seed=args.seed, progress=False, sentiment_model="vader"))
        con = connect(db, read_only=True)
        n_accounts, n_contacts = rows(con, "select (select count(*) from accounts), (select count(*) from contacts)")[0]
        as_of = propensity.data_end(con)
        print(f"accounts {n_accounts:,}, contacts {n_contacts:,}, as of {as_of}")
        timed("baseline: count(*) over contacts", rows, con, "select count(*) from contacts")
        timed("baseline: contacts grouped by account (a full scan)", rows, con,
              "select count(*) from (select account_id, count(*) as n, max(ts) as last from contacts group by account_id)")
        timed("baseline: copy the database file (each writer's new version)", shutil.copyfile,
              os.path.realpath(db), Path(tmp) / "copy.duckdb")
        (Path(tmp) / "copy.duckdb").unlink()
        feats = timed("features of every open account (one query)", propensity.features, con, as_of)
        print(f"    {len(feats):,} open accounts, {feats.shape[1] - 2} features")
        con.close()
        start = command("baseline: a process importing sklearn's booster",
                        ["-c", "import sklearn.ensemble, analysis.propensity"])
        if not args.skip_train:
            command("propensity train (end to end, model stored)", ["-m", "analysis", "propensity", "train", "--db", str(db)])
        wall = command("propensity score (end to end, scores and plan stored)",
                       ["-m", "analysis", "propensity", "score", "--db", str(db)])
        con = connect(db, read_only=True)
        model = timed("latest_model() in process (unpickling imports sklearn)", propensity.latest_model, con)
        scores = timed("score() in process, read-only, model given", propensity.score, con, as_of, model)
        stored = rows(con, "select count(*) from propensity_scores")[0][0]
        con.close()
        print(f"    {len(scores):,} scored in process, {stored:,} stored by the command; the command less a bare "
              f"process: {wall - start:.1f} s, i.e. {(wall - start) * 1e6 / max(n_accounts, 1):.0f} s per 1M accounts "
              "if linear")
    print(f"load after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
