"""Versioned database files (analysis.store): imports and refreshes while readers read.

Readers here are other processes, as the dashboard is: DuckDB's locks are per process, and the
failure this prevents ("Could not set lock ... Conflicting lock is held") only shows across them.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import pytest

from analysis import pipeline, store
from analysis.db import connect
from analysis.errors import UserError
from analysis.ingest import import_directory

ROOT = Path(__file__).resolve().parent.parent

# A reader process: until the stop file appears, open the database by its path, read one snapshot
# in one transaction, close; print each distinct snapshot and every error, as JSON lines.
READER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from analysis.db import connect
    db, stop, hold = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "hold"
    held = connect(db, read_only=True) if hold else None  # the dashboard keeps one open all day
    seen, errors, reads = set(), [], 0
    while not stop.exists():
        try:
            con = connect(db, read_only=True)
            cur = con.cursor()
            cur.execute("begin")
            snap = tuple(cur.execute(
                "select (select count(*) from contacts), (select count(*) from breaches),"
                " (select count(*) from import_log), (select value from meta where key = 'rule_set') is not null"
            ).fetchall()[0])
            cur.execute("commit")
            con.close()
            seen.add(snap)
            reads += 1
            if reads == 1:
                print("ready", flush=True)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
        time.sleep(0.005)
    if held is not None:
        cur = held.cursor()
        seen.add(("held",) + tuple(cur.execute("select count(*) from contacts").fetchall()[0]))
    print(json.dumps({"seen": sorted(map(list, seen), key=str), "errors": errors, "reads": reads}))
""")


def snapshot(db: Path) -> list:
    con = connect(db, read_only=True)
    try:
        return list(con.cursor().execute(
            "select (select count(*) from contacts), (select count(*) from breaches),"
            " (select count(*) from import_log), (select value from meta where key = 'rule_set') is not null"
        ).fetchall()[0])
    finally:
        con.close()


class Readers:
    """`n` reader processes polling `db` (the first also holding one connection open throughout)."""

    def __init__(self, db: Path, tmp: Path, n: int = 3):
        self.stop = tmp / "stop-readers"
        self.stop.unlink(missing_ok=True)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.procs = [subprocess.Popen([sys.executable, "-c", READER, str(db), str(self.stop), "hold" if i == 0 else "poll"],
                                       cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                      for i in range(n)]
        for p in self.procs:  # each has opened the database and read it once
            assert p.stdout.readline().strip() == "ready", p.stderr.read()

    def finish(self) -> list[dict]:
        self.stop.touch()
        out = []
        for p in self.procs:
            stdout, stderr = p.communicate(timeout=120)
            assert p.returncode == 0, stderr
            out.append(json.loads(stdout.strip().splitlines()[-1]))
        return out


def write(directory: Path, name: str, text: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")


def breaching_import(directory: Path, account: str = "Z1") -> None:
    """A new account called eight times in three days: a Regulation F 7-in-7 breach among them."""
    write(directory, "accounts.csv", "account_id,consumer_id,placed_date,placed_balance,timezone\n"
                                     f"{account},C{account},2026-01-05,900.00,America/New_York\n")
    rows = "".join(f"K{account}-{i},{account},2026-02-0{2 + i // 3}T1{4 + i % 3}:00:00Z,call,outbound,no_answer,,\n" for i in range(8))
    write(directory, "contacts.csv", "contact_id,account_id,ts,channel,direction,outcome,agent_id,duration_s\n" + rows)


@pytest.fixture
def db(demo_db, tmp_path) -> Path:
    """A private copy of the demo database, a plain file as a database made before versions is."""
    path = tmp_path / "book.duckdb"
    shutil.copyfile(demo_db, path)
    return path


# --- the mechanism --------------------------------------------------------------------------------


def test_a_reader_keeps_the_version_it_opened_and_the_next_reader_sees_the_new_one(db):
    old_reader = connect(db, read_only=True)
    before = old_reader.cursor().execute("select count(*) from accounts").fetchall()[0][0]
    with store.writing(db) as con:
        con.execute("delete from accounts where account_id in (select account_id from accounts limit 3)")
    assert db.is_symlink() and store.current(db).parent == store.versions_dir(db)
    new_reader = connect(db, read_only=True)
    assert new_reader.cursor().execute("select count(*) from accounts").fetchall()[0][0] == before - 3
    assert old_reader.cursor().execute("select count(*) from accounts").fetchall()[0][0] == before


def test_a_failed_write_publishes_nothing_and_leaves_no_file(db):
    with store.writing(db) as con:  # now a link to its first version
        pass
    version, target = store.version(db), store.current(db)
    with pytest.raises(RuntimeError, match="half way"):
        with store.writing(db) as con:
            con.execute("delete from contacts")
            raise RuntimeError("half way")
    assert store.version(db) == version and store.current(db) == target
    assert list(store.versions_dir(db).iterdir()) == [target]
    assert snapshot(db)[0] > 0


def test_a_second_writer_is_refused_at_once_with_one_line(db):
    with store.writer_lock(db):
        with pytest.raises(UserError, match="another import or refresh is writing") as err:
            with store.writing(db):
                pass
    assert "\n" not in str(err.value)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import subprocess, sys
        from analysis import store
        with store.writer_lock({str(db)!r}):
            print(subprocess.run([sys.executable, "-m", "analysis", "refresh", "--db", {str(db)!r}],
                                 capture_output=True, text=True).stderr)
    """)], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("error: another import or refresh is writing") and "Traceback" not in done.stdout


def test_an_old_version_is_deleted_only_once_no_process_reads_it(db, tmp_path):
    with store.writing(db):
        pass
    first = store.current(db)
    hold = subprocess.Popen([sys.executable, "-c", "import sys, time; from analysis.db import connect;"
                             " con = connect(sys.argv[1], read_only=True); print('open', flush=True); sys.stdin.read()", str(db)],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert hold.stdout.readline().strip() == "open"
    with store.writing(db):
        pass
    with store.writing(db):
        pass
    files = sorted(store.versions_dir(db).iterdir())
    assert first in files and store.current(db) in files and len(files) == 2  # the middle one nobody read is gone
    hold.communicate("", timeout=30)
    with store.writing(db):
        pass
    assert list(store.versions_dir(db).iterdir()) == [store.current(db)]


# --- the commands, with readers polling -------------------------------------------------------------


def test_readers_polling_during_an_import_see_the_old_state_then_the_new_one_never_an_error_or_a_mix(db, tmp_path):
    before = snapshot(db)
    breaching_import(tmp_path / "day")
    readers = Readers(db, tmp_path)
    done = subprocess.run([sys.executable, "-m", "analysis", "ingest", str(tmp_path / "day"), "--db", str(db), "--no-progress"],
                          cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=600)
    time.sleep(0.5)
    results = readers.finish()
    assert done.returncode == 0, done.stderr
    after = snapshot(db)
    assert after[0] == before[0] + 8 and after[1] > before[1] and after[2] > before[2]  # contacts, their breaches, the log
    for r in results:
        assert r["errors"] == [] and r["reads"] > 10
        states = [s for s in r["seen"] if s[0] != "held"]
        assert states and all(s in (before, after) for s in states), (states, before, after)
        assert after in states  # the new data shows at once, with no restart of anything
    held = [s for s in results[0]["seen"] if s[0] == "held"]
    assert held == [["held", before[0]]]  # a connection open all along reads its version to the end


def test_a_failing_refresh_publishes_nothing_while_readers_poll(db, tmp_path, monkeypatch):
    with store.writing(db):
        pass
    before, version = snapshot(db), store.version(db)
    breaching_import(tmp_path / "day")
    readers = Readers(db, tmp_path)

    def boom(con):
        raise RuntimeError("derived step failed")

    monkeypatch.setitem(sys.modules, "tests_store_boom", type(sys)("tests_store_boom"))
    sys.modules["tests_store_boom"].boom = boom
    monkeypatch.setattr(pipeline, "STEPS", pipeline.STEPS + [("boom", "tests_store_boom:boom")])
    with pytest.raises(RuntimeError, match="derived step failed"):
        import_directory(tmp_path / "day", db)
    results = readers.finish()
    assert store.version(db) == version and snapshot(db) == before
    assert list(store.versions_dir(db).iterdir()) == [store.current(db)]
    for r in results:
        assert r["errors"] == [] and [s for s in r["seen"] if s[0] != "held"] == [before]


def test_an_import_killed_midway_leaves_readers_on_the_last_good_version_and_the_next_import_cleans_up(db, tmp_path):
    with store.writing(db):
        pass
    before, version = snapshot(db), store.version(db)
    breaching_import(tmp_path / "day")
    readers = Readers(db, tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "analysis", "ingest", str(tmp_path / "day"), "--db", str(db), "--no-progress"],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(list(store.versions_dir(db).glob("*.duckdb"))) < 2 and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # into the import
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(0.5)
    results = readers.finish()
    assert store.version(db) == version and snapshot(db) == before
    for r in results:
        assert r["errors"] == [] and [s for s in r["seen"] if s[0] != "held"] == [before]
    import_directory(tmp_path / "day", db)  # the lock died with the process; its unfinished file goes
    assert snapshot(db)[0] == before[0] + 8
    assert list(store.versions_dir(db).iterdir()) == [store.current(db)]


def test_the_dashboards_loader_shows_a_published_import_at_once(db, tmp_path, monkeypatch):
    from analysis.db import query_rows  # noqa: F401  (the loader calls library functions by module and name)
    from dashboard import data

    monkeypatch.setenv("DASHBOARD_DB", str(db))
    counts = data.load(table_counts)
    breaching_import(tmp_path / "day")
    import_directory(tmp_path / "day", db)
    assert data.load(table_counts)["contacts"] == counts["contacts"] + 8


def memory_limit(con) -> str:
    return con.cursor().execute("select current_setting('memory_limit')").fetchall()[0][0]


def test_the_dashboards_connection_caps_duckdbs_memory_and_says_so_when_the_cap_is_bad(db, monkeypatch):
    from dashboard import data

    monkeypatch.setenv("DASHBOARD_DB", str(db))
    monkeypatch.setenv("DASHBOARD_MEMORY_MB", "256")
    data._open.clear()
    assert data.load(memory_limit) == "256.0 MiB"
    data._open.clear()
    monkeypatch.setenv("DASHBOARD_MEMORY_MB", "lots")
    with pytest.raises(UserError, match="DASHBOARD_MEMORY_MB='lots' is not a number of megabytes"):
        data.load(memory_limit)
    data._open.clear()


def test_a_superseded_versions_connection_is_dropped_after_a_grace_and_frees_its_memory(db, tmp_path, monkeypatch):
    """Each open version has its own DuckDB cap: after an import the process would hold two. The old
    version's connection stays for the runs that started on it, then is dropped and closed; a run still
    on it afterwards opens it again and reads the old data."""
    import gc
    import weakref

    from dashboard import data

    monkeypatch.setenv("DASHBOARD_DB", str(db))
    monkeypatch.setattr(data, "SUPERSEDED_GRACE", 2.0)
    breaching_import(tmp_path / "day1", account="Z1")
    import_directory(tmp_path / "day1", db)  # the plain file becomes versions (see the next test)
    data._open.clear()
    before = data.load(table_counts)
    old_version = store.version(db)
    old = weakref.ref(data._open[old_version])
    download = data.load_later(table_counts)  # a page's download button, made on the old version
    breaching_import(tmp_path / "day", account="Z2")
    ingest = subprocess.run([sys.executable, "-m", "analysis", "ingest", str(tmp_path / "day"), "--db", str(db), "--no-progress"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)  # another process, as in production
    assert ingest.returncode == 0, ingest.stderr
    assert data.load(table_counts)["contacts"] == before["contacts"] + 8  # the new version is open
    new_version = store.version(db)
    assert old() is data._open[old_version]  # within the grace: kept
    deadline = time.monotonic() + 10
    while old_version in data._open and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(data._open) == [new_version]
    gc.collect()
    assert old() is None  # closed: nothing else held it, the download button included
    # its file is kept by the writer while this process had it open: a click on the old page's download
    # reads it on a connection of its own, which neither joins the open versions nor stays open
    assert download() == before
    assert list(data._open) == [new_version]
    # and a run still on it reads it again
    assert data._connection(old_version).cursor().execute("select count(*) from contacts").fetchall()[0][0] == before["contacts"]
    data._open.clear()


def test_a_run_on_a_version_whose_file_now_holds_newer_data_is_told_to_reload(db, tmp_path, monkeypatch):
    """A plain database file becomes a link to the new version at the first import: a run still pinned to
    the plain file's version, once its connection is dropped, must not read the new data as the old."""
    from dashboard import data

    monkeypatch.setenv("DASHBOARD_DB", str(db))
    data._open.clear()
    old_version = store.version(db)
    breaching_import(tmp_path / "day")
    import_directory(tmp_path / "day", db)
    with pytest.raises(UserError, match="replaced by a newer import: reload the page"):
        data._connection(old_version)
    assert data._open == {}


def table_counts(con) -> dict:
    cur = con.cursor()
    return {"contacts": cur.execute("select count(*) from contacts").fetchall()[0][0]}


def test_a_relative_db_path_keeps_every_published_version(tmp_path):
    """`make run` builds `--db data/demo.duckdb`, a path relative to the working folder: the
    version just published must survive the writer's clean-up (it was once deleted, being compared
    as a relative path against the link's absolute target), through the demo and a refresh after it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["demo", "--db", "rel.duckdb", "--accounts", "10"], ["refresh", "--db", "rel.duckdb"]):
        done = subprocess.run([sys.executable, "-m", "analysis", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert store.current(tmp_path / "rel.duckdb") is not None, f"{args[0]} left the link dangling"
    assert connect(tmp_path / "rel.duckdb", read_only=True).cursor().execute("select count(*) from accounts").fetchall()[0][0] == 10
    assert [f.name for f in store.versions_dir(tmp_path / "rel.duckdb").iterdir()] == ["rel_v2.duckdb"]


def test_a_plain_file_with_readers_becomes_a_link_and_its_readers_keep_reading(db):
    reader = duckdb.connect(str(db), read_only=True)
    n = reader.execute("select count(*) from contacts").fetchall()[0][0]
    with store.writing(db) as con:
        con.execute("delete from contacts")
    assert db.is_symlink() and snapshot(db)[0] == 0
    assert reader.execute("select count(*) from contacts").fetchall()[0][0] == n


def test_the_writer_lock_is_released_by_a_thread_that_fails(db):
    errors = []

    def write():
        try:
            with store.writing(db) as con:
                con.execute("select * from no_such_table")
        except duckdb.Error as exc:
            errors.append(exc)

    t = threading.Thread(target=write)
    t.start()
    t.join()
    assert errors
    with store.writing(db):  # not refused: the failed writer let go of the lock
        pass


def _wait_for_line(log: Path, text: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace")
        if text in content:
            return content
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not in the server log within {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


def test_a_running_dashboard_opens_and_warms_a_published_version_before_anyone_asks(db, tmp_path, page):
    """The server's watcher (dashboard.data.watch) starts with the first sign-in form, warms the current
    version's landing figures, and opens and warms a newly published version with no page asking for it."""
    from conftest import start_server, stop_server

    log = tmp_path / "server.log"
    proc, url = start_server(db, log)
    try:
        page.goto(url)
        page.get_by_role("button", name="Sign in").wait_for()
        content = _wait_for_line(log, f"dashboard: warmed {db.name} in")
        with store.writing(db) as con:  # an import published while the tab sits on the sign-in form
            con.execute("delete from complaints where complaint_id in (select complaint_id from complaints limit 1)")
        new = store.current(db)
        content = _wait_for_line(log, f"dashboard: warmed {new.name} in")
        assert store.in_use(new), "the server holds the new version open"
        assert "failed" not in content and "Traceback" not in content
    finally:
        stop_server(proc)


def test_the_files_a_write_leaves_beside_the_demo_database_are_ignored_by_git():
    """`make run` builds data/demo.duckdb as a link into a versions folder, with a writer lock beside it:
    none of it may end up in a commit (a 118 MB version file once did)."""
    path = Path("data") / "demo.duckdb"
    for leftover in (path, store.versions_dir(path) / "demo_v1.duckdb", store._lock_path(path),
                     path.parent / f".{path.name}.link-4242"):
        done = subprocess.run(["git", "check-ignore", "-q", "--no-index", str(leftover)], cwd=ROOT)
        assert done.returncode == 0, f"{leftover} is not ignored by .gitignore"
