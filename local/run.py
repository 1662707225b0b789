"""`make run`: every pipeline end to end in one local Spark session, then every query in DuckDB.

Each pipeline reads generated samples, or your own files (--raw-from, --no-generate). The steps come from pipelines/
(the same description Step Functions is built from); the lake lands in ./.lake/.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "jobs"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from local import manifest  # noqa: E402  (after the path set-up above)
from local.cli import OneLineParser  # noqa: E402
from local.spark import local_session  # noqa: E402
from pipelines import PIPELINES, Location, Pipeline, Step  # noqa: E402

PROG = "python -m local.run"


class RunError(Exception):
    """A mistake in `make run`'s own options or folders, found before any work: one line, exit code 2."""


# Pipeline name -> the folder read in place of `<lake>/raw/<pipeline>/` (--raw-from).
RawFrom = dict[str, Path]


def resolve(lake: Path, location: Location, raw_from: RawFrom | None = None) -> str:
    """A lake location on this machine: `<lake>/<zone>/<prefix>`, or under the user's folder given by --raw-from."""
    for name, folder in (raw_from or {}).items():
        root = PIPELINES[name].raw
        if location.zone == root.zone and location.prefix.startswith(root.prefix):
            return str(folder / location.relative_to(root))
    return str(lake / location.zone / location.prefix)


def step_argv(lake: Path, step: Step, raw_from: RawFrom | None = None) -> list[str]:
    return [part for flag, location in step.args for part in (flag, resolve(lake, location, raw_from))]


def generate(lake: Path, pipeline: Pipeline, *, scale: float, seed: int) -> dict[str, int]:
    """Fresh, deterministic sample data in the pipeline's raw location, replacing only what was generated before.

    Each pipeline's generator is the module of its name in local/samples/."""
    module = importlib.import_module(f"local.samples.{pipeline.name}")
    size = max(1, int(module.DEFAULT_SIZE * scale))
    return manifest.replace_generated(
        Path(resolve(lake, pipeline.raw)),
        manifest.record_path(lake, pipeline.name),
        pipeline.name,
        lambda staging: module.write_sample(staging, size=size, seed=seed),
    )


class StepFailed(Exception):
    """A step exited non-zero (its one line is on stderr): 2 an input error, 3 the gate refused the run."""

    def __init__(self, step: str, code: int) -> None:
        self.step, self.code = step, code
        super().__init__(f"{step} exited with code {code}")


def run_pipeline(lake: Path, pipeline: Pipeline, log, raw_from: RawFrom | None = None) -> list[dict]:
    """Run the pipeline's steps wave by wave (a step only after the steps it depends on); StepFailed stops the
    pipeline at a step that failed or that the gate refused, with nothing of that step published."""
    reports = []
    for wave in pipeline.waves():
        for step in wave:
            started = time.perf_counter()
            log(f"  {pipeline.name}: {step.name} ...")
            job = importlib.import_module(f"jobs.{step.job}")
            try:
                report = job.main(step_argv(lake, step, raw_from))
            except SystemExit as exited:
                raise StepFailed(step.name, int(exited.code or 1)) from None
            gate = report.get("gate", [])
            log(
                f"  {pipeline.name}: {step.name} done in {time.perf_counter() - started:.1f} s "
                f"(gate: {sum(r['passed'] for r in gate)} of {len(gate)} rules passed, published)"
            )
            reports.append(report)
    return reports


def ingest_locally(lake: Path, pipeline: Pipeline, log, raw_from: RawFrom | None = None) -> dict:
    """The orders ingest Lambda on each export, as if each had landed in the watched prefix: staged as the Lambda
    stages it (local/ingest.py), for the pipeline's merge step to commit to ingested_items."""
    from local.ingest import stage_exports  # noqa: PLC0415  (pyarrow only: no AWS)
    from pipelines.orders import INGEST_STAGING  # noqa: PLC0415

    raw = Path(resolve(lake, pipeline.raw, raw_from))
    return stage_exports(visible_files(raw, "*.json*"), Path(resolve(lake, INGEST_STAGING)), log)


def visible_files(folder: Path, pattern: str) -> list[Path]:
    """Files matching `pattern` under `folder`, leaving out names starting with `_` or `.`, as Spark's readers do."""
    return sorted(
        path
        for path in folder.rglob(pattern)
        if path.is_file() and not any(part.startswith(("_", ".")) for part in path.relative_to(folder).parts)
    )


def summary_rows(reports: Sequence[dict]) -> list[tuple]:
    rows = []
    for report in reports:
        for name, counts in report["inputs"].items():
            filtered = sum(counts["filtered"].values())
            rows.append(
                (
                    report["job"],
                    name,
                    counts["read"],
                    counts["written"],
                    counts["quarantined"],
                    filtered,
                    "yes" if counts["balanced"] else "NO",
                )
            )
    return rows


def run_queries(lake: Path, pipelines: Sequence[str], log) -> int:
    from local import duck  # noqa: PLC0415  (DuckDB and sqlglot only for this part)
    from pipelines.queries import load_queries  # noqa: PLC0415

    curated = lake / "curated"
    connection = duck.connect(curated)
    missing = [name for name in duck.missing_tables(curated) if name.split("_", 1)[0] in pipelines]
    if missing:
        log(f"tables with no data yet (their queries may be empty): {', '.join(missing)}")
    failures = 0
    for query in load_queries().values():
        if query.pipeline not in pipelines:
            continue
        values = dict(query.examples)
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        log(f"\n== {query.name} ({query.pipeline}){f'  [{shown}]' if shown else ''}\n{query.description}")
        try:
            columns, rows = duck.run_query(connection, query, values)
        except Exception as error:  # one broken query must not hide the others' results
            failures += 1
            log(f"FAILED: {error}")
            continue
        log(duck.format_table(columns, rows))
    return failures


def _parser() -> OneLineParser:
    parser = OneLineParser(prog=PROG, description=__doc__)
    parser.add_argument("--lake", type=Path, default=ROOT / ".lake", help="where the local lake goes (default .lake)")
    parser.add_argument(
        "--pipelines", nargs="+", choices=sorted(PIPELINES), default=list(PIPELINES), help="the pipelines to run"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every generator's default size")
    parser.add_argument("--seed", type=int, default=7, help="the generators' random seed (same seed, same files)")
    parser.add_argument(
        "--raw-from",
        action="append",
        default=[],
        metavar="PIPELINE=DIR",
        help="read DIR instead of generating samples: DIR is laid out like .lake/raw/PIPELINE/ and is never "
        "written to or deleted from (repeat for several pipelines)",
    )
    parser.add_argument(
        "--no-generate",
        action="store_true",
        help="generate nothing: every pipeline reads what is already in <lake>/raw/<pipeline>/",
    )
    parser.add_argument("--no-queries", action="store_true", help="skip the DuckDB queries")
    return parser


def parse_raw_from(pairs: Sequence[str], pipelines: Sequence[str]) -> RawFrom:
    """`PIPELINE=DIR` options, each naming a selected pipeline and an existing folder."""
    raw_from: RawFrom = {}
    for pair in pairs:
        name, sep, folder = pair.partition("=")
        if not sep or not name or not folder:
            raise RunError(f"--raw-from {pair!r}: expected PIPELINE=DIR, for example --raw-from kindle=~/kindle")
        if name not in PIPELINES:
            known = ", ".join(sorted(PIPELINES))
            raise RunError(f"--raw-from {pair!r}: unknown pipeline {name!r}; choose from {known}")
        if name not in pipelines:
            raise RunError(f"--raw-from {pair!r}: {name} is not among --pipelines {' '.join(pipelines)}")
        if name in raw_from:
            raise RunError(f"--raw-from {name}= is given twice")
        path = Path(folder).expanduser().resolve()
        if not path.is_dir():
            found = "a file: give the folder that holds it" if path.exists() else "not a folder"
            raise RunError(f"--raw-from {pair!r}: {path} is {found}")
        raw_from[name] = path
    return raw_from


def check_lake_writable(lake: Path) -> None:
    """Create the lake folder and write a probe file in it, so that an unwritable --lake stops before any work."""
    probe = lake / ".write-check"
    try:
        lake.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or str(error)
        raise RunError(f"--lake {lake}: cannot write there ({reason}); choose another folder") from None


def check_inputs(lake: Path, pipeline: Pipeline, raw_from: RawFrom) -> None:
    """Every raw input of a pipeline that reads existing files must exist before the run starts."""
    raw_args = [(step, flag, loc) for step in pipeline.steps for flag, loc in step.args if loc.zone == "raw"]
    for step, flag, location in raw_args:
        path = Path(resolve(lake, location, raw_from))
        if path.exists():
            continue
        if pipeline.name in raw_from:
            inside = sorted({loc.relative_to(pipeline.raw) for _, _, loc in raw_args} - {""})
            hint = f"--raw-from {pipeline.name}=DIR reads DIR as the lake's raw/{pipeline.raw.prefix}" + (
                f", so DIR needs {' and '.join(inside)}" if inside else ""
            )
        else:
            hint = "--no-generate reads what is already in the lake: put your files there, or generate samples"
        raise RunError(f"{pipeline.name}: no input at {path} ({step.name} {flag}); {hint}")


def prepare(args) -> tuple[Path, RawFrom, list[str]]:
    """Everything `make run` can refuse, checked before Spark starts or any file is written; RunError otherwise."""
    if args.scale <= 0:
        raise RunError(f"--scale {args.scale:g}: must be greater than 0")
    if not args.no_queries:
        from local.duck_extensions import MissingExtension, check_extensions  # noqa: PLC0415

        try:
            check_extensions()
        except MissingExtension as error:
            raise RunError(f"{error} (or run with --no-queries)") from None
    lake = args.lake.expanduser().resolve()
    raw_from = parse_raw_from(args.raw_from, args.pipelines)
    generated = [] if args.no_generate else [name for name in args.pipelines if name not in raw_from]
    check_lake_writable(lake)
    for name in args.pipelines:
        pipeline = PIPELINES[name]
        if name in generated:
            raw = Path(resolve(lake, pipeline.raw))
            manifest.check_generated_only(raw, manifest.record_path(lake, name), name)
        else:
            check_inputs(lake, pipeline, raw_from)
    return lake, raw_from, generated


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def log(message: str) -> None:
        print(message, flush=True)

    started = time.perf_counter()
    try:
        lake, raw_from, generated = prepare(args)
    except (RunError, manifest.ForeignFiles) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    local_session("datalake-local")
    reports = []
    failed_steps: list[StepFailed] = []
    for name in dict.fromkeys(args.pipelines):
        pipeline = PIPELINES[name]
        if name in generated:
            counts = generate(lake, pipeline, scale=args.scale, seed=args.seed)
            log(f"[{name}] generated {', '.join(f'{k}={v}' for k, v in counts.items())}")
        else:
            log(f"[{name}] reading your files in {resolve(lake, pipeline.raw, raw_from)} (nothing generated)")
        if name == "orders":
            # Before the steps: the pipeline's ingest_merge step commits what the Lambda's road staged.
            reports.append(ingest_locally(lake, pipeline, log, raw_from))
        try:
            reports += run_pipeline(lake, pipeline, log, raw_from)
        except StepFailed as failed:
            refused = "refused by the gate" if failed.code == 3 else "failed"
            log(f"  {name}: {failed.step} {refused} (exit code {failed.code}); the pipeline's tables are unchanged")
            failed_steps.append(failed)
            continue
    failures = 0 if args.no_queries else run_queries(lake, args.pipelines, log)

    from local import duck  # noqa: PLC0415

    header = ("job", "input", "read", "written", "quarantined", "filtered", "balanced")
    log("\n== summary: rows per job input (read = written + quarantined + filtered)")
    log(duck.format_table(header, summary_rows(reports), max_rows=100))
    unbalanced = [r for r in summary_rows(reports) if r[-1] != "yes"]
    log(f"\nlake: {lake}   time: {time.perf_counter() - started:.0f} s")
    if failed_steps:
        log(f"steps that published nothing: {', '.join(f'{f.step} (exit {f.code})' for f in failed_steps)}")
    return 1 if failures or unbalanced or failed_steps else 0


if __name__ == "__main__":
    sys.exit(main())
