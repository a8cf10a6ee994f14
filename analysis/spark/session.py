"""Starting or joining the Spark session the usual way.

- Under `spark-submit` (or `pyspark`), the session and master it configured are used as they are.
- With `SPARK_REMOTE` set (Spark Connect, `sc://host:15002`), pyspark connects to that server.
- Otherwise a local master, `local[*]` (or `SPARK_MASTER`), with the web UI off and few shuffle
  partitions: one machine, no cluster.

Every session runs with `spark.sql.session.timeZone = UTC`: instants are read and written as UTC,
and every local time is made from a zone named in the data (the account's, or the reporting zone),
never from the machine's or the cluster's default.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from analysis.errors import UserError

INSTALL = "pip install -r requirements-spark.txt"
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")  # local mode: errors only


def jvm_log() -> Path:
    """Where a local Spark's JVM writes its own console output (`SPARK_LOCAL_LOG`, default a file per user in
    the temporary folder): the JVM's start-up lines are not the command's, whose stderr stays its own."""
    return Path(os.environ.get("SPARK_LOCAL_LOG") or Path(tempfile.gettempdir()) / f"analysis-spark-{os.getuid()}.log")


@contextmanager
def _jvm_stderr(path: Path):
    """The JVM started inside inherits file descriptor 2 pointing at `path`; this process's is restored after."""
    sys.stderr.flush()
    saved = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.dup2(fd, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(fd)


def require_spark() -> None:
    """pyspark importable and a Java runtime present (local mode needs one), or a one-line UserError."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise UserError(f"--engine spark needs pyspark, which is not installed: run `{INSTALL}` "
                        f"(or `make test`, which installs it into .venv)") from None
    if os.environ.get("SPARK_REMOTE"):
        return  # Spark Connect: the server has the JVM
    java_home = os.environ.get("JAVA_HOME")
    if not (shutil.which("java") or (java_home and os.path.exists(os.path.join(java_home, "bin", "java")))):
        raise UserError("--engine spark needs Java 17 or later, and no `java` was found on PATH or in JAVA_HOME: "
                        "install a JDK (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME")


def session(app_name: str = "debt-collection-analytics"):
    """The active Spark session, or a new one (Spark Connect with SPARK_REMOTE, else a local master)."""
    require_spark()
    import warnings

    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        spark = active
    elif os.environ.get("SPARK_REMOTE"):
        spark = SparkSession.builder.remote(os.environ["SPARK_REMOTE"]).appName(app_name).getOrCreate()
    else:
        builder = SparkSession.builder.appName(app_name)
        from pyspark import SparkConf

        if not SparkConf().contains("spark.master"):  # spark-submit sets it; a plain `python` run does not
            # local Python workers run this interpreter (this venv: pyarrow, the models), not PATH's python3
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            builder = (builder.master(os.environ.get("SPARK_MASTER", "local[*]"))
                       .config("spark.ui.enabled", "false")
                       .config("spark.ui.showConsoleProgress", "false")
                       .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_SHUFFLE_PARTITIONS", "8"))
                       .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "4g"))
                       .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{LOG_CONFIG}"))
        log = jvm_log()
        try:
            with _jvm_stderr(log):
                spark = builder.getOrCreate()
        except Exception as exc:  # the JVM failed to start: one line, not the gateway's traceback
            raise UserError(f"Spark did not start ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}): "
                            f"check Java 17+ (`java -version`), the Spark settings and {log}") from None
        spark.sparkContext.setLogLevel("ERROR")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return spark
