"""Speed and cross-check of the contact-rule audit (SPEC section 2, issue 3; the command, issue 20).

1. Generates synthetic accounts/contacts/consents/preferences (numpy default_rng) into a DuckDB
   file: 3 million contacts by default, in two shapes (`--shapes`): "dense", 125 contacts per
   account (about 57 % of contacts are breaches: 1.7M at 3M), and "sparse", 10 per account (about
   5 %); "typical" (30 per account, 18 %) is the shape of the earlier figures.
2. Times the audit command end to end, as a user runs it: `python -m analysis audit --db FILE
   --out FILE.csv` in a subprocess (interpreter start, imports, audit, CSV written and renamed),
   the median of `--runs` runs; and the engine alone (`find_breaches` into a DataFrame), once.
3. Times, side by side, a straightforward pandas implementation of the same rules written from
   the SPEC text (`pandas_audit` below; it returns the (contact_id, rule_id) pairs only: no
   evidence, no CSV; the tables are loaded into pandas beforehand, untimed), and prints the ratio
   pandas / command (target >= 10x on a breach-dense book).
4. Checks that the engine and pandas give the same (contact_id, rule_id) pairs, per rule, and that
   the command's file has one line per breach; exits 1 if not.
5. Optionally times the engine on 10 million contacts (`--big N`, target under 10 s) and
   cross-checks on a demo database (`--demo-accounts N`).

    .venv/bin/python benchmarks/bench_audit.py [--contacts 3000000] [--shapes dense,sparse]
        [--runs 3] [--no-pandas] [--big 10000000] [--demo-accounts 5000]

Figures are wall-clock and CPU seconds on this machine; wall-clock figures move with other load on
the machine (`uptime` is printed before and after each shape), so compare the ratio of a run.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.compliance.engine import find_breaches  # noqa: E402
from analysis.compliance.rules import load_rules  # noqa: E402
from analysis.schema import create_schema  # noqa: E402

ZONES = np.array(["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
                  "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Detroit"])
STD_OFFSET_H = np.array([-5, -6, -7, -7, -8, -9, -10, -5])
CHANNELS = np.array(["call", "sms", "email", "letter", "chat"])
CALL_OUTCOMES = np.array(["no_answer", "voicemail", "busy", "not_connected", "conversation", "third_party", "dropped"])
START = np.datetime64("2026-01-01T00:00:00", "s").astype(np.int64)  # epoch seconds
DAYS = 150


# --- synthetic data ---------------------------------------------------------------------------

def generate(con, n_contacts: int, seed: int = 11, per_account: int = 30) -> None:
    """Fill the contract tables with a synthetic book of ~`per_account` contacts per account.

    Contact volume is skewed across accounts (some are called far too often), local hours spread
    around the day (some outside 08-21), a third of timestamps fall on whole minutes (ties), ids
    are shuffled against time, and a few accounts have consents, opt-outs and cease requests.
    """
    rng = np.random.default_rng(seed)
    n_acc = max(n_contacts // per_account, 10)
    zone = rng.integers(0, len(ZONES), n_acc)
    phone_kind = rng.random(n_acc)
    phone_zone = np.where(phone_kind < 0.55, ZONES[zone], ZONES[rng.integers(0, len(ZONES), n_acc)])
    phone_zone = np.where(phone_kind > 0.8, None, phone_zone)
    state = np.array(["MA", " ma ", "NY", "TX", "CA", "FL"], dtype=object)[
        rng.choice(6, n_acc, p=[0.05, 0.01, 0.3, 0.24, 0.25, 0.15])]
    vulnerable = np.where(rng.random(n_acc) < 0.05, True, np.where(rng.random(n_acc) < 0.1, None, False))
    accounts = pd.DataFrame({
        "account_id": [f"A{i:08d}" for i in range(n_acc)],
        "timezone": ZONES[zone], "phone_timezone": phone_zone, "state": state, "vulnerable": vulnerable,
    })
    con.register("acc_df", accounts)
    con.execute("""insert into accounts (account_id, consumer_id, placed_date, placed_balance, timezone,
                   phone_timezone, state, vulnerable)
                   select account_id, 'P' || account_id, date '2025-12-01', 100, timezone, phone_timezone,
                          state, vulnerable::boolean from acc_df""")
    con.unregister("acc_df")

    # Skewed volume (lognormal weights): a tail of accounts is called several times a day.
    weight = rng.lognormal(0.0, 0.7, n_acc)
    acct = rng.choice(n_acc, n_contacts, p=weight / weight.sum())
    # Each account is worked over a 60-day stretch of the 150 days, so heavy accounts get bursts.
    first_day = rng.integers(0, DAYS - 60, n_acc)
    day = first_day[acct] + rng.integers(0, 60, n_contacts)
    # Local hour of day around early afternoon (a few percent before 08:00 or after 21:00), turned
    # into UTC with each zone's standard offset (DST shifts some by an hour, as in real dialling).
    local_hour = np.clip(rng.normal(13.5, 3.0, n_contacts), 0, 23.999)
    sec = (day * 86400 + (local_hour - STD_OFFSET_H[zone[acct]]) * 3600).astype(np.int64)
    sec = np.where(rng.random(n_contacts) < 0.35, sec - sec % 60, sec)  # whole minutes: many ties
    channel = rng.choice(5, n_contacts, p=[0.62, 0.18, 0.1, 0.04, 0.06])
    direction = np.where((channel != 3) & (rng.random(n_contacts) < 0.15), "inbound", "outbound")
    outcome = np.where(channel == 0, CALL_OUTCOMES[rng.choice(7, n_contacts, p=[0.4, 0.26, 0.08, 0.07, 0.07, 0.06, 0.06])],
                       np.where(direction == "outbound", "sent", "received"))
    contacts = pd.DataFrame({
        "contact_no": rng.permutation(n_contacts),
        "account_no": acct,
        "ts_s": START + sec,
        "channel": CHANNELS[channel], "direction": direction, "outcome": outcome,
    })
    con.register("con_df", contacts)
    con.execute("""insert into contacts (contact_id, account_id, ts, channel, direction, outcome)
                   select 'K' || lpad(contact_no::varchar, 9, '0'), 'A' || lpad(account_no::varchar, 8, '0'),
                          to_timestamp(ts_s), channel, direction, outcome from con_df""")
    con.unregister("con_df")
    del contacts

    def instants(n):
        return START + (rng.integers(0, DAYS, n) * 86400 + rng.integers(0, 86400, n))

    n_cons = n_acc // 15
    consents = pd.DataFrame({"account_id": accounts["account_id"].to_numpy()[rng.choice(n_acc, n_cons)],
                             "s": instants(n_cons)})
    n_pref = n_acc // 20
    pref_channel = np.array(["call", "sms", "email", "letter", "chat", "all"])[
        rng.choice(6, n_pref, p=[0.25, 0.25, 0.2, 0.05, 0.05, 0.2])]
    prefs = pd.DataFrame({"account_id": accounts["account_id"].to_numpy()[rng.choice(n_acc, n_pref)],
                          "channel": pref_channel, "s": instants(n_pref)})
    con.register("g_df", consents)
    con.register("p_df", prefs)
    con.execute("insert into consents select distinct account_id, to_timestamp(s) from g_df")
    con.execute("insert into preferences select distinct account_id, channel, to_timestamp(s) from p_df")
    con.unregister("g_df")
    con.unregister("p_df")


# --- the pandas baseline, from the SPEC text ------------------------------------------------

def _local(ts: pd.Series, zone: pd.Series) -> pd.Series:
    """Wall time (naive) of each instant in its own zone."""
    out = pd.Series(pd.NaT, index=ts.index, dtype="datetime64[us]")
    for z in zone.dropna().unique():
        m = zone == z
        out[m] = ts[m].dt.tz_convert(z).dt.tz_localize(None).astype("datetime64[us]")
    return out


def pandas_audit(accounts: pd.DataFrame, contacts: pd.DataFrame, consents: pd.DataFrame,
                 preferences: pd.DataFrame) -> pd.DataFrame:
    """(contact_id, rule_id) of every breach of the seven default rules, written from SPEC section 2."""
    acc = accounts[["account_id", "timezone", "phone_timezone", "state", "vulnerable"]]
    c = contacts.merge(acc, on="account_id", how="inner")
    c = c.sort_values(["ts", "contact_id"], ignore_index=True)  # contact order
    c["pos"] = np.arange(len(c))
    c["local"] = _local(c["ts"], c["timezone"])
    c["ldate"] = c["local"].dt.normalize()
    out = []

    # Placed calls, consent windows, counted calls.
    placed = c[(c["channel"] == "call") & (c["direction"] == "outbound")]
    g = consents.merge(acc[["account_id", "timezone"]], on="account_id")
    g["gdate"] = _local(g["given_at"], g["timezone"]).dt.normalize()
    g = g.sort_values("given_at")
    g["gdate_max"] = g.groupby("account_id")["gdate"].cummax()  # any earlier consent may still cover
    p = pd.merge_asof(placed.sort_values("ts"), g[["account_id", "given_at", "gdate_max"]],
                      left_on="ts", right_on="given_at", by="account_id", direction="backward")
    in_consent = p["given_at"].notna() & (p["ldate"] <= p["gdate_max"] + pd.Timedelta(days=6))
    counted = p[~p["outcome"].isin(["busy", "not_connected"]) & ~in_consent]
    counted = counted.sort_values(["account_id", "pos"])

    # Rules 1, 6, 7: counted calls with local date in [d-6, d] at or before c in order.
    counted = counted.assign(one=1.0).set_index("ldate")
    n = counted.groupby("account_id", sort=False)["one"].rolling("7D").sum()
    counted = counted.reset_index()
    counted["n"] = n.to_numpy()
    out.append(counted.loc[counted["n"] > 7, ["contact_id"]].assign(rule_id="regf_7in7"))
    vul = counted["vulnerable"].fillna(False).astype(bool)
    out.append(counted.loc[vul & (counted["n"] > 3), ["contact_id"]].assign(rule_id="policy_vulnerable_3in7"))
    ma = counted["state"].fillna("").str.strip().str.upper() == "MA"
    out.append(counted.loc[ma & (counted["n"] > 2), ["contact_id"]].assign(rule_id="state_ma_2in7"))

    # Rule 2: a counted call after a telephone conversation (v.ts < c.ts) with d(c) <= d(v) + 6.
    conv = c[(c["channel"] == "call") & (c["outcome"] == "conversation")][["account_id", "ts", "ldate"]]
    conv = conv.sort_values("ts").rename(columns={"ts": "v_ts", "ldate": "v_date"})
    conv["v_date_max"] = conv.groupby("account_id")["v_date"].cummax()
    r2 = pd.merge_asof(counted.sort_values("ts"), conv, left_on="ts", right_on="v_ts", by="account_id",
                       direction="backward", allow_exact_matches=False)
    r2 = r2[r2["v_ts"].notna() & (r2["ldate"] <= r2["v_date_max"] + pd.Timedelta(days=6))]
    out.append(r2[["contact_id"]].assign(rule_id="regf_post_conversation"))

    # Rule 3: outbound call/sms/email/chat before 08:00:00 or at/after 21:00:00 in either zone,
    # unless a reply: an inbound i on the channel before o in order, o.ts - i.ts <= 24 h, and no
    # other outbound on the channel between them.
    q = c[c["channel"].isin(["call", "sms", "email", "chat"])]
    out_q = q[q["direction"] == "outbound"].copy()
    t_acc = out_q["local"].dt.hour * 3600 + out_q["local"].dt.minute * 60 + out_q["local"].dt.second
    phone_local = _local(out_q["ts"], out_q["phone_timezone"])
    t_ph = phone_local.dt.hour * 3600 + phone_local.dt.minute * 60 + phone_local.dt.second
    bad_acc = (t_acc < 8 * 3600) | (t_acc >= 21 * 3600)
    bad_ph = phone_local.notna() & ((t_ph < 8 * 3600) | (t_ph >= 21 * 3600))
    out_q = out_q[bad_acc | bad_ph]
    inbound = q[q["direction"] == "inbound"][["account_id", "channel", "pos", "ts"]].rename(
        columns={"pos": "i_pos", "ts": "i_ts"}).sort_values("i_pos")
    outbound = q[q["direction"] == "outbound"][["account_id", "channel", "pos"]].rename(
        columns={"pos": "prev_out_pos"}).sort_values("prev_out_pos")
    e = pd.merge_asof(out_q.sort_values("pos"), inbound, left_on="pos", right_on="i_pos",
                      by=["account_id", "channel"], direction="backward", allow_exact_matches=False)
    e = pd.merge_asof(e.sort_values("pos"), outbound, left_on="pos", right_on="prev_out_pos",
                      by=["account_id", "channel"], direction="backward", allow_exact_matches=False)
    exempt = (e["i_pos"].notna() & ((e["ts"] - e["i_ts"]) <= pd.Timedelta(hours=24))
              & (e["prev_out_pos"].isna() | (e["prev_out_pos"] < e["i_pos"])))
    out.append(e.loc[~exempt, ["contact_id"]].assign(rule_id="inconvenient_time"))

    # Rules 4 and 5: outbound contact with ts > opted_out_at (channel row of its channel / 'all').
    outbound_all = c[c["direction"] == "outbound"][["contact_id", "account_id", "channel", "ts"]]
    medium = preferences[preferences["channel"] != "all"]
    r4 = outbound_all.merge(medium, on=["account_id", "channel"])
    out.append(r4.loc[r4["ts"] > r4["opted_out_at"], ["contact_id"]].drop_duplicates().assign(rule_id="medium_opt_out"))
    cease = preferences[preferences["channel"] == "all"][["account_id", "opted_out_at"]]
    r5 = outbound_all.merge(cease, on="account_id")
    out.append(r5.loc[r5["ts"] > r5["opted_out_at"], ["contact_id"]].drop_duplicates().assign(rule_id="cease_communication"))
    return pd.concat(out, ignore_index=True)


def load_frames(con) -> tuple[pd.DataFrame, ...]:
    cur = con.cursor()
    try:
        with warnings.catch_warnings():
            # DuckDB's .df() calls DataFrame.drop(inplace=...), which pandas 3.1 deprecates: noise here
            warnings.filterwarnings("ignore", message="The inplace keyword")
            return tuple(cur.execute(f"select * from {t}").df() for t in ("accounts", "contacts", "consents", "preferences"))
    finally:
        cur.close()


# --- running --------------------------------------------------------------------------------

def timed(label: str, fn, *args):
    """Run and print wall-clock seconds and this process's CPU seconds (all threads): on a shared
    machine the CPU figure moves less with other people's load than the wall-clock one."""
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn(*args)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"  {label:<46} {elapsed:8.2f} s wall {cpu:8.2f} s cpu", flush=True)
    return result, (elapsed, cpu)


def compare(engine: pd.DataFrame, baseline: pd.DataFrame, rule_ids) -> bool:
    a = set(zip(engine["contact_id"], engine["rule_id"]))
    b = set(zip(baseline["contact_id"], baseline["rule_id"]))
    print(f"  {'rule':<24} {'engine':>10} {'pandas':>10} {'only engine':>12} {'only pandas':>12}")
    for rid in rule_ids:
        ea = {x for x in a if x[1] == rid}
        pb = {x for x in b if x[1] == rid}
        print(f"  {rid:<24} {len(ea):>10,} {len(pb):>10,} {len(ea - pb):>12,} {len(pb - ea):>12,}")
    same = a == b and len(engine) == len(a)
    print(f"  same (contact_id, rule_id) pairs: {'yes' if same else 'NO'}")
    if not same:
        print(f"  examples only in engine: {sorted(a - b)[:5]}; only in pandas: {sorted(b - a)[:5]}")
    return same


SHAPES = {"dense": 125, "typical": 30, "sparse": 10}  # contacts per account


def build_synthetic(path: Path, n: int, per_account: int = 30) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")
    create_schema(con)
    t0 = time.perf_counter()
    generate(con, n, per_account=per_account)
    print(f"  generated {n:,} contacts ({per_account} per account) in {time.perf_counter() - t0:.1f} s")
    return con


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def time_command(db: Path, out: Path, runs: int) -> tuple[float, float, str]:
    """Median wall-clock and CPU seconds (the child's, all threads) of `python -m analysis audit`."""
    walls, cpus, stdout = [], [], ""
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "analysis", "audit", "--db", str(db), "--out", str(out)],
                              cwd=ROOT, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"audit command failed: {done.stderr.strip()}")
        stdout = done.stdout
    print(f"  {'audit command, end to end (median of ' + str(runs) + ')':<46} {statistics.median(walls):8.2f} s wall "
          f"{statistics.median(cpus):8.2f} s cpu   (runs: {', '.join(f'{w:.2f}' for w in walls)})", flush=True)
    return statistics.median(walls), statistics.median(cpus), stdout


def bench_shape(tmp: Path, shape: str, n: int, runs: int, pandas: bool, rules) -> tuple[bool, dict]:
    print(f"== {shape} book: {n:,} synthetic contacts, {SHAPES[shape]} per account ({load()})")
    db = tmp / f"{shape}.duckdb"
    build_synthetic(db, n, SHAPES[shape]).close()
    out = tmp / f"{shape}.csv"
    t_cmd, cpu_cmd, stdout = time_command(db, out, runs)
    con = duckdb.connect(str(db), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    engine, (t_engine, _) = timed("engine alone (find_breaches -> DataFrame)", find_breaches, con, rules)
    with out.open("rb") as fh:
        lines = sum(1 for _ in fh)
    quoted_newlines = int(engine["contact_id"].str.contains("\n").sum())  # none in generated data
    ok = lines - 1 == len(engine) and quoted_newlines == 0 and f"{len(engine):,}" in stdout.splitlines()[-1]
    print(f"  breaches: {len(engine):,} ({len(engine) / n:.0%} of contacts); CSV {out.stat().st_size / 1e6:.0f} MB, "
          f"{lines - 1:,} rows: {'as many as the engine' if ok else 'NOT as many as the engine'}")
    figures = {"shape": shape, "breaches": len(engine), "command": t_cmd, "command_cpu": cpu_cmd, "engine": t_engine}
    if pandas:
        frames, _ = timed("(load tables into pandas, not timed below)", load_frames, con)
        baseline, (t_pandas, cpu_pandas) = timed("pandas implementation (pairs only)", pandas_audit, *frames)
        figures.update(pandas=t_pandas, pandas_cpu=cpu_pandas)
        print(f"  pandas / command: {t_pandas / t_cmd:.1f}x wall-clock, {cpu_pandas / cpu_cmd:.1f}x CPU (target >= 10x); "
              f"pandas / engine alone: {t_pandas / t_engine:.1f}x")
        ok &= compare(engine, baseline, rules.ids)
        del frames, baseline
    con.close()
    db.unlink()
    out.unlink()
    print(f"  ({load()})")
    return ok, figures


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contacts", type=int, default=3_000_000)
    ap.add_argument("--shapes", default="dense,sparse", help=f"comma-separated, of {', '.join(SHAPES)}")
    ap.add_argument("--runs", type=int, default=3, help="runs of the command per shape (median)")
    ap.add_argument("--no-pandas", action="store_true")
    ap.add_argument("--big", type=int, default=0, help="also time the engine on this many contacts (0: not)")
    ap.add_argument("--demo-accounts", type=int, default=0, help="also cross-check on a demo of this size (0: not)")
    args = ap.parse_args(argv)
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    if unknown := [s for s in shapes if s not in SHAPES]:
        ap.error(f"unknown shape {unknown[0]}: one of {', '.join(SHAPES)}")
    rules = load_rules()
    ok = True
    results = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        tmp = Path(tmp)
        for shape in shapes:
            shape_ok, figures = bench_shape(tmp, shape, args.contacts, args.runs, not args.no_pandas, rules)
            ok &= shape_ok
            results.append(figures)

        if args.big:
            print(f"== audit of {args.big:,} synthetic contacts")
            con = build_synthetic(tmp / "big.duckdb", args.big)
            big, (t_big, _) = timed("DuckDB engine (find_breaches, 7 rules)", find_breaches, con, rules)
            print(f"  breaches: {len(big):,}; {'under' if t_big < 10 else 'OVER'} the 10 s target")
            con.close()
            (tmp / "big.duckdb").unlink()

        if args.demo_accounts:
            from analysis.demo import build
            print(f"== cross-check on the demo database ({args.demo_accounts:,} accounts)")
            build(tmp / "demo.duckdb", accounts=args.demo_accounts, seed=42, progress=False)
            con = duckdb.connect(str(tmp / "demo.duckdb"), read_only=True)
            con.execute("set TimeZone = 'UTC'")
            engine, _ = timed("DuckDB engine", find_breaches, con, rules)
            baseline, _ = timed("pandas baseline", pandas_audit, *load_frames(con))
            ok &= compare(engine, baseline, rules.ids)
            con.close()
    print("== summary (wall-clock seconds)")
    print(f"  {'shape':<8} {'breaches':>10} {'command':>8} {'engine':>8} {'pandas':>8} {'pandas/command':>15}")
    for f in results:
        pandas_s = f"{f['pandas']:8.2f}" if "pandas" in f else f"{'-':>8}"
        ratio = f"{f['pandas'] / f['command']:14.1f}x" if "pandas" in f else f"{'-':>15}"
        print(f"  {f['shape']:<8} {f['breaches']:>10,} {f['command']:8.2f} {f['engine']:8.2f} {pandas_s} {ratio}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
