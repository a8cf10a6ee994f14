"""Fresh clone to serving dashboard, and the second start (targets: <= 5 min and <= 15 s on 2 cores).

    .venv/bin/python benchmarks/bench_startup.py [--repo PATH] [--keep] [--second-only]

1. `git clone` the repository into a temporary directory;
2. `make run PORT=<free port>` there in the background: it creates .venv, installs requirements.txt,
   builds the default demo database and starts Streamlit; the clock stops when /_stcore/health answers;
3. the first build scores with VADER; `make run` rescores with the configured model (the transformer)
   in the background while serving: the clock runs on until that version is published;
4. stop it and `make run` again in the same clone: the second start (everything installed and built).

pip's download cache is whatever this machine has (warm after the first install here), so the
first figure is for a machine that has installed these wheels before; a machine that downloads them
adds the download time. `--second-only` measures the second start in the current tree instead.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRESH_TARGET_S = 300
SECOND_TARGET_S = 15


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_and_time(clone: Path, log: Path, timeout: float) -> tuple[float, subprocess.Popen]:
    """Seconds from `make run` to a healthy server, and the running process group."""
    port = free_port()
    t0 = time.perf_counter()
    with open(log, "ab") as out:
        proc = subprocess.Popen(["make", "run", f"PORT={port}"], cwd=clone, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}/_stcore/health"
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"make run exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return time.perf_counter() - t0, proc
        except OSError:
            pass
        time.sleep(0.25)
    stop(proc)
    raise SystemExit(f"not serving after {timeout:.0f}s; see {log}")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # make and the streamlit it started
        proc.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=str(ROOT), help="repository to clone (default: this one)")
    parser.add_argument("--keep", action="store_true", help="keep the clone (its .venv is a few GB)")
    parser.add_argument("--second-only", action="store_true", help="only the second start, in this tree")
    args = parser.parse_args()

    if args.second_only:
        log = Path(tempfile.gettempdir()) / "bench_startup.log"
        seconds, proc = start_and_time(ROOT, log, 120)
        stop(proc)
        print(f"second start (this tree): {seconds:.1f} s (target <= {SECOND_TARGET_S} s)")
        return 0

    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    clone, log = work / "clone", work / "make-run.log"
    try:
        t0 = time.perf_counter()
        subprocess.run(["git", "clone", "--quiet", args.repo, str(clone)], check=True)
        clone_s = time.perf_counter() - t0
        # `make install` then `make run` is what one `make run` does, split to show where the time goes.
        t0 = time.perf_counter()
        with open(log, "ab") as out:
            subprocess.run(["make", "install"], cwd=clone, stdout=out, stderr=subprocess.STDOUT, check=True)
        install_s = time.perf_counter() - t0
        t_serve = time.perf_counter()
        serve_s, proc = start_and_time(clone, log, 20 * 60)
        fresh_s = clone_s + install_s + serve_s
        # the first build scores with VADER; the configured model (the transformer) rescores in the
        # background while the dashboard serves (Makefile): time until its version is published
        rescore = clone / "data" / "demo.duckdb.rescore.log"
        while "published sentiment scores by" not in (rescore.read_text(errors="replace") if rescore.exists() else ""):
            if time.perf_counter() - t_serve > 30 * 60:
                raise SystemExit(f"the background rescoring did not publish within 30 min; see {rescore}")
            time.sleep(1)
        rescored_s = clone_s + install_s + time.perf_counter() - t_serve
        stop(proc)
        second_s, proc = start_and_time(clone, log, 120)
        stop(proc)
        print(f"clone: {clone_s:.1f} s")
        print(f"install (venv + pip install -r requirements.txt): {install_s:.1f} s")
        print(f"demo build + first start (make run until /_stcore/health answers): {serve_s:.1f} s")
        print(f"fresh clone to serving: {fresh_s:.1f} s (target <= {FRESH_TARGET_S} s)")
        print(f"fresh clone to the transformer's scores published (background rescoring while serving): {rescored_s:.1f} s")
        print(f"second start (make run, all installed and built): {second_s:.1f} s (target <= {SECOND_TARGET_S} s)")
        print(f"log: {log}" if args.keep else "(machine shared with other work: figures are noisy)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
