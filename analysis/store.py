"""Versioned database files: imports and refreshes while the dashboard reads.

DuckDB lets one process write a file or several read it, never both. So nothing ever writes the file
readers have open. The path a user names (`--db data/demo.duckdb`) is a symbolic link to the current
*version*, a file in the hidden folder beside it (`.demo.duckdb.versions/demo_v7.duckdb`):

- A writer (`ingest`, `refresh`, `import-cfpb`, `demo`) takes the writer lock, copies the current
  version to a new file (or starts an empty one), does all its work there (the import *and* the
  derived tables), checkpoints it, and then swaps the link in one `rename`. Readers that open the path
  afterwards get the new version; readers with the old one open keep reading it, whole and unchanged.
- A write that fails, or a process that is killed, publishes nothing: the link still names the last
  good version, and the unfinished file is deleted (by the writer itself, or by the next one).
- Old versions are deleted by the next writer once no process has them open. A DuckDB reader holds a
  shared lock on the file it reads, so "is anyone reading it?" is a lock test, not a guess.

DuckDB resolves the link when it opens the file, so each version is its own database in its own
instance (DuckDB caches one instance per resolved path in a process: the link alone would hand a
long-lived reader its old instance back). `version(path)` names the version for caches.

A database that is a plain file (made before versions, or by hand) is read as it is; its first writer
turns the path into a link, and the plain file lives on for whoever still has it open.
"""
from __future__ import annotations

import fcntl
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

from analysis.errors import UserError

_VERSION = re.compile(r"_v(\d+)\.duckdb$")


def versions_dir(path: str | Path) -> Path:
    path = Path(path)
    return path.parent / f".{path.name}.versions"


def _lock_path(path: Path) -> Path:
    return path.parent / f".{path.name}.lock"


def current(path: str | Path) -> Path | None:
    """The file that holds the current version of `path` (the link's target, or the plain file), as an
    absolute path with every link resolved, or None."""
    target = Path(os.path.realpath(path))
    return target if target.is_file() else None


def version(path: str | Path) -> str:
    """A name for the current version of `path`, for keying caches: it changes with every publish."""
    target = current(path)
    if target is None:
        return f"{path}:missing"
    st = target.stat()
    return f"{target}:{st.st_ino}:{st.st_mtime_ns}"


def version_file(name: str) -> Path:
    """The file of a version named by `version()` (it may since have been superseded)."""
    return Path(name.rsplit(":", 2)[0])


def _version_files(path: Path) -> list[Path]:
    folder = versions_dir(path)
    return sorted(folder.glob(f"{path.stem}_v*.duckdb")) if folder.is_dir() else []


def _next_file(path: Path) -> Path:
    numbers = [int(m.group(1)) for f in _version_files(path) if (m := _VERSION.search(f.name))]
    return versions_dir(path) / f"{path.stem}_v{max(numbers, default=0) + 1}.duckdb"


def in_use(file: Path) -> bool:
    """True while some process has the DuckDB file open (DuckDB locks a file it opens with fcntl)."""
    try:
        fd = os.open(file, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _remove(file: Path) -> None:
    for leftover in (file, Path(f"{file}.wal"), Path(f"{file}.tmp")):
        leftover.unlink(missing_ok=True)


def collect_garbage(path: str | Path) -> list[Path]:
    """Delete the versions of `path` that are neither current nor open in any process; return them.

    Called with the writer lock held, so an unfinished file left here belongs to a dead writer."""
    path = Path(path)
    keep = current(path)
    removed = []
    for file in _version_files(path):
        # Compared resolved: `path` may be relative (`--db data/demo.duckdb`) while `keep` is absolute.
        if Path(os.path.realpath(file)) == keep or in_use(file):
            continue
        _remove(file)
        removed.append(file)
    return removed


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(path: Path, file: Path) -> None:
    """Point `path` at `file` in one rename (atomic for every reader), and make it durable."""
    link = path.parent / f".{path.name}.link-{os.getpid()}"
    link.unlink(missing_ok=True)
    os.symlink(os.path.relpath(file, path.parent), link)
    os.replace(link, path)
    _fsync(path.parent)


def check_path(path: str | Path) -> Path:
    path = Path(path)
    if not path.parent.exists():
        raise UserError(f"the folder of --db {path} does not exist: create {path.parent} first")
    if path.is_dir():
        raise UserError(f"--db {path} is a directory: give a database file name such as {path / 'collections.duckdb'}")
    return path


@contextmanager
def writer_lock(path: str | Path):
    """Hold the one writer lock of `path` (a second writer is refused at once, with a message)."""
    path = Path(path)
    fd = os.open(_lock_path(path), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise UserError(f"another import or refresh is writing {path} now: wait for it to finish, then run this again") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock (the kernel releases it too if the process dies)


@contextmanager
def writing(path: str | Path, *, fresh: bool = False):
    """Write a new version of `path`: yields a read-write connection to a copy of the current
    version (an empty database with `fresh=True` or when there is none); publishes it when the block
    ends normally, and throws it away when the block raises. Readers are never blocked."""
    from analysis.db import connect

    path = check_path(path)
    with writer_lock(path):
        collect_garbage(path)
        versions_dir(path).mkdir(exist_ok=True)
        file = _next_file(path)
        source = None if fresh else current(path)
        try:
            if source is not None:
                shutil.copyfile(source, file)
                if Path(f"{source}.wal").exists():  # a plain file last written in place and not checkpointed
                    shutil.copyfile(f"{source}.wal", f"{file}.wal")
            con = connect(file)
        except BaseException:
            _remove(file)
            raise
        try:
            yield con
            con.execute("checkpoint")
        except BaseException:
            con.close()
            _remove(file)
            raise
        con.close()
        _fsync(file)
        plain = path.is_file() and not path.is_symlink()
        _publish(path, file)
        if plain:  # the plain file lives on for its readers; its log belonged to it alone
            Path(f"{path}.wal").unlink(missing_ok=True)
        collect_garbage(path)
