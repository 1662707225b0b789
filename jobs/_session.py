"""Where a job's SparkSession comes from: the caller's, the cluster's, or the one local recipe (Java and the
Iceberg runtime checked first).

The recipe lives here, beside the jobs, so `python jobs/<job>.py` runs Spark exactly as `make run`, `make bench`
and the tests do (local/spark.py re-exports it); on EMR, EMR Serverless and Glue the cluster's settings stand (the
runtime brings Iceberg).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _errors import UserError

# "Spark runs on Java 8/11/17" (https://spark.apache.org/docs/3.5.6/, pyspark 3.5 being EMR 7's Spark); EMR 7
# and Glue 5.0 run Java 17, the version this project is tested on.
SUPPORTED_JAVA = (8, 11, 17)
RECOMMENDED_JAVA = 17
# AWS Glue adds this argument (with --JOB_ID, --TempDir, ...) to every job run it starts.
GLUE_RUN_ARGUMENT = "--JOB_RUN_ID"

# Apache Iceberg's Spark runtime for Spark 3.5 / Scala 2.12 (pyspark 3.5's Scala), shipped in this PyPI wheel
# (requirements.txt): Maven is out of reach here, so spark.jars.packages cannot fetch it.
ICEBERG_WHEEL = "snowpark-connect-deps-iceberg==1.0.1"
ICEBERG_PACKAGE = "snowpark_connect_deps_iceberg"
ICEBERG_JAR = "iceberg-spark-runtime-3.5_2.12-*.jar"
ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"

LOCAL_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
}

# The driver JVM keeps tiered compilation but asks 10x the calls and loop iterations of a method before its
# optimising (C2) compile. A local run is short and has 2 cores here: with the defaults C2 compiles ~14,000 methods
# and takes a core for most of the run (JFR, jobs/orders.py on 40k orders: 32 s of compilation in a 31-s run), for
# code that runs a few times and is gone; the hottest loops (JSON parsing, Parquet encoding) still cross the raised
# thresholds within seconds. Whole processes, this machine: orders at 40k -18% CPU, the Kindle job at 300k -8%, the
# naive Kindle flatten (one hot parsing loop) no slower. C1 alone (-XX:TieredStopAtLevel=1) cut the jobs more but made
# that flatten 2.4x slower, as it would any long CPU-bound run. make bench's baselines share this recipe; the test
# suite's session, one JVM for ten minutes of queries, does not (its orders and sparkify tests: 117 s on the JVM's
# defaults, 127 s with these). Not set for spark-submit, EMR or Glue, whose JVMs are the runtime's.
LOCAL_JVM_OPTIONS = (
    "-XX:Tier4InvocationThreshold=50000 -XX:Tier4MinInvocationThreshold=6000 "
    "-XX:Tier4CompileThreshold=150000 -XX:Tier4BackEdgeThreshold=400000"
)

# Errors only, and not even those of failed tasks: they reach the job as exceptions, which it reports in one line
# (or, for a bug, with the whole trace). The PythonGatewayServer logger at ERROR stops Spark printing "Setting
# default log level"; the root at ERROR hides the start-up warnings (loopback hostname, native Hadoop library).
LOG4J2_PROPERTIES = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
logger.executor.name = org.apache.spark.executor.Executor
logger.executor.level = off
logger.tasks.name = org.apache.spark.scheduler.TaskSetManager
logger.tasks.level = off
"""


def _java_command(environ: dict[str, str]) -> tuple[str | None, str]:
    """The java Spark's launcher would run (JAVA_HOME/bin/java, else java on PATH) and where it came from."""
    java_home = environ.get("JAVA_HOME")
    if java_home:
        java = Path(java_home) / "bin" / "java"
        return (str(java) if java.is_file() else None), f"JAVA_HOME={java_home}"
    return shutil.which("java", path=environ.get("PATH", os.defpath)), "PATH"


def java_version(output: str) -> int | None:
    """The major version in `java -version` output: 'openjdk version "17.0.15"' -> 17, '"1.8.0_402"' -> 8."""
    found = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def java_problem(environ: dict[str, str] | None = None) -> str | None:
    """Why local Spark cannot start on this machine's Java (missing, broken, unsupported), or None when it can."""
    environ = dict(os.environ if environ is None else environ)
    install = f"install Java {RECOMMENDED_JAVA} and set JAVA_HOME to it"
    java, origin = _java_command(environ)
    if java is None:
        where = f"{origin} has no bin/java" if origin != "PATH" else "no JAVA_HOME and no java on PATH"
        return f"Java not found ({where}): Spark needs Java {RECOMMENDED_JAVA}; {install}"
    try:
        ran = subprocess.run(  # noqa: S603  (the java Spark itself would run)
            [java, "-version"], capture_output=True, text=True, timeout=60, env=environ, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{java} (from {origin}) does not run ({error}); {install}"
    version = java_version(ran.stderr + ran.stdout)
    if version not in SUPPORTED_JAVA:
        found = f"Java {version}" if version else "an unrecognised Java"
        supported = ", ".join(str(v) for v in SUPPORTED_JAVA)
        return (
            f"{java} (from {origin}) is {found}: Spark 3.5 runs on Java {supported}, this project on "
            f"{RECOMMENDED_JAVA}; {install}"
        )
    return None


def iceberg_jar() -> Path | None:
    """The Iceberg Spark runtime jar of the installed wheel, or None (found without importing the package)."""
    spec = importlib.util.find_spec(ICEBERG_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        jars = sorted((Path(folder) / "jars").glob(ICEBERG_JAR))
        if jars:
            return jars[-1]
    return None


def iceberg_problem() -> str | None:
    """Why a local session cannot have Iceberg (the jar's wheel is not installed), or None when it can."""
    if iceberg_jar() is None:
        return (
            f"the Apache Iceberg Spark runtime is not installed (no {ICEBERG_JAR} in a {ICEBERG_PACKAGE} package); "
            f"pip install {ICEBERG_WHEEL} (make install does)"
        )
    return None


def has_iceberg(spark) -> bool:
    """Whether the session was built with Iceberg's SQL extensions (which cannot be added once it runs)."""
    return ICEBERG_EXTENSIONS in (spark.conf.get("spark.sql.extensions", "") or "")


def _log4j_config() -> str:
    """A file URI of LOG4J2_PROPERTIES, written once per content into the temporary folder."""
    digest = hashlib.sha256(LOG4J2_PROPERTIES.encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"datalake-log4j2-{digest}.properties"
    if not path.is_file():
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(LOG4J2_PROPERTIES)
        partial.replace(path)
    return path.as_uri()


def _start_local(app_name: str, driver_memory: str, conf: dict[str, str], jvm_options: str = LOCAL_JVM_OPTIONS):
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession  # noqa: PLC0415  (Spark starts only when a session is asked for)

    settings = {
        **LOCAL_SETTINGS,
        # Both read only when the session is built: Iceberg cannot be added to a running session.
        "spark.jars": str(iceberg_jar()),
        "spark.sql.extensions": ICEBERG_EXTENSIONS,
        "spark.driver.memory": driver_memory,
        # Read by the driver JVM as it starts: pyspark passes the builder's settings to spark-submit.
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={_log4j_config()} {jvm_options}".strip(),
        **conf,
    }
    builder = SparkSession.builder.master("local[2]").appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def local_session(app_name: str, *, driver_memory: str = "3g", jvm_options: str = LOCAL_JVM_OPTIONS, **conf: str):
    """A `local[2]` session with Iceberg, the UI off, few shuffle partitions, UTC and quiet logs; `conf` adds or
    overrides, `jvm_options` replaces LOCAL_JVM_OPTIONS (the test suite's one long-lived JVM takes the defaults).

    Every caller is a command-line entry point (`make run`, `make bench`, the tests), so missing or unsupported
    Java, or a missing Iceberg runtime, stops the program here with one line and exit code 2.
    """
    problem = java_problem() or iceberg_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        raise SystemExit(2)
    return _start_local(app_name, driver_memory, conf, jvm_options)


def runs_on_its_own(argv: Sequence[str]) -> bool:
    """True for `python jobs/<job>.py`: no session is active here and no launcher (spark-submit, Glue) started us.

    spark-submit (EMR steps, EMR Serverless, `spark-submit --master ...` by hand) starts the JVM first and hands
    Python its address in PYSPARK_GATEWAY_PORT, with spark.master set; Glue adds its run argument. A session
    already active (make run, the tests, a notebook) is the caller's to configure.
    """
    from pyspark import SparkContext  # noqa: PLC0415

    if SparkContext._active_spark_context is not None:
        return False
    if "PYSPARK_GATEWAY_PORT" in os.environ or GLUE_RUN_ARGUMENT in argv:
        return False
    # PYSPARK_SUBMIT_ARGS with --master: the user chose their own Spark; respect it like spark-submit.
    return "--master" not in os.environ.get("PYSPARK_SUBMIT_ARGS", "")


def job_session(app_name: str, argv: Sequence[str]):
    """The session a job runs in: the local recipe when it runs on its own (Java checked first), else the active
    or launcher-configured one with its settings untouched. Either way in UTC, which the jobs' dates rely on."""
    from pyspark import SparkContext  # noqa: PLC0415
    from pyspark.sql import SparkSession  # noqa: PLC0415

    if runs_on_its_own(argv):
        problem = java_problem() or iceberg_problem()
        if problem:
            raise UserError(problem)
        spark = _start_local(app_name, "3g", {})
    elif SparkContext._active_spark_context is not None:
        spark = SparkSession.builder.getOrCreate()
    else:
        spark = SparkSession.builder.appName(app_name).getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return spark
