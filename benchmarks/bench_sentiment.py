"""Throughput of the sentiment models and of the incremental conversation scoring. Prints figures.

    .venv/bin/python benchmarks/bench_sentiment.py [--texts 2000] [--skip-transformer] [--accounts 2000] [--threads N] [--cold]

- Model throughput on held-out review sentences (analysis.sentiment.labelled.HELD_OUT), texts/s,
  for vader and for the transformer's four encoder settings side by side: onnxruntime fp32 and
  int8, torch fp32 and int8 (threads from config, 2, or --threads), each with its load time. The
  onnxruntime ones load first (a process that has not imported torch: the cached graph needs none);
  --cold builds their graphs in an empty cache directory, so the load time includes the export.
- The `conversations` pipeline step on a demo database: first run (every text new), a re-run with
  nothing new, then after adding a tenth more conversations with unseen texts.
Machine is shared: figures are noisy when other work runs; compare runs made back to back.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.sentiment import labelled, load_model, read_config  # noqa: E402


def rate(model, texts) -> str:
    """Wall-clock texts/s, and texts per CPU-second of this process (all its threads).

    On a machine shared with other work the wall-clock figure drops with the contention; the
    CPU-second figure much less so, and times the cores the model may use (torch threads, 2) it
    estimates the uncontended rate (an upper bound: it assumes perfect parallel efficiency).
    """
    model.score(texts[:64])  # warm-up: first batch pays for lazy initialisation
    t0, c0 = time.perf_counter(), time.process_time()
    model.score(texts)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return (f"{len(texts) / wall:,.0f} texts/s wall clock, {len(texts) / cpu:,.0f} texts per CPU-second "
            f"(load average {os.getloadavg()[0]:.1f} after)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--skip-transformer", action="store_true")
    parser.add_argument("--accounts", type=int, default=2000, help="demo accounts for the pipeline step figure (0: skip)")
    parser.add_argument("--threads", type=int, help="onnxruntime / torch threads for the transformer (default: config, 2); 1 gives the per-core rate")
    parser.add_argument("--cold", action="store_true", help="onnx: build the graphs in an empty cache directory (load time includes the export)")
    args = parser.parse_args()

    pool = [t for s in labelled.HELD_OUT for t, _ in labelled.load(s)]
    texts = (pool * (args.texts // len(pool) + 1))[:args.texts]
    mean_chars = sum(map(len, texts)) / len(texts)
    print(f"texts: {len(texts)} held-out review sentences, mean {mean_chars:.0f} characters; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"vader: {rate(load_model('vader'), texts * 5)}")
    if not args.skip_transformer:
        cfg = read_config()
        with tempfile.TemporaryDirectory() as cold:
            for backend, quantize in (("onnx", False), ("onnx", True), ("torch", False), ("torch", True)):
                settings = {**cfg.get("transformer", {}), "backend": backend, "quantize": quantize}
                if args.threads:
                    settings["threads"] = args.threads
                if args.cold:
                    settings["onnx_cache"] = cold
                t0 = time.perf_counter()
                model = load_model("transformer", {**cfg, "transformer": settings})
                loaded = time.perf_counter() - t0
                how = " (built the graph)" if getattr(model.encoder, "built", None) else " (cached graph)" if backend == "onnx" else ""
                print(f"transformer {backend} {'int8' if quantize else 'fp32'} ({model.model_id}): {rate(model, texts)}; "
                      f"load {loaded:.1f}s{how}", flush=True)

    if args.accounts:
        from analysis.db import connect, rows
        from analysis.demo import build
        from analysis.sentiment.conversations import refresh

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.duckdb"
            build(path, accounts=args.accounts, seed=3, progress=False)
            con = connect(path)
            con.execute("drop table if exists sentiment_cache")
            n_turns = rows(con, "select count(*) from turns")[0][0]
            for label in ("first run (cache empty)", "re-run, nothing new"):
                t0 = time.perf_counter()
                stats = refresh(con, "vader")
                print(f"conversations step, {label}: {time.perf_counter() - t0:.2f}s, {stats['texts_scored']:,} texts scored, {n_turns:,} turns")
            con.execute("""insert into conversations select conversation_id || '-x', account_id, started_at, channel, agent_id, contact_id
                           from conversations using sample 10 percent (bernoulli, 5)""")
            con.execute("""insert into turns select t.conversation_id || '-x', t.turn, t.speaker, t.text || ' (ref ' || t.conversation_id || ')'
                           from turns t join conversations c on c.conversation_id = t.conversation_id || '-x'""")
            t0 = time.perf_counter()
            stats = refresh(con, "vader")
            print(f"conversations step, after adding ~10% conversations with new texts: {time.perf_counter() - t0:.2f}s, {stats['texts_scored']:,} texts scored")
            con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
