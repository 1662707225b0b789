"""What `make bench` leaves behind: a table in the terminal, results.json and results.csv, and chart.png (time against
input size for each implementation, one panel per job) in the results folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

MB = 1_000_000


def _tables_text(tables: dict) -> str:
    return ", ".join(f"{name} {t['files']}x{t['mean_bytes'] / MB:.1f}MB" for name, t in tables.items())


def print_summary(summary: dict, log=print) -> None:
    """One line per size and implementation: medians, ratios, peak memory, files per table; then the targets."""
    rounds = summary["sizes"][0]["variants"][summary["job"]]["rounds"]
    log(f"{summary['benchmark']}: whole processes, medians of {rounds} rounds; job/x = the job's time over x's")
    for name, description in summary["implementations"].items():
        log(f"  {name:<7} {description}")
    columns = f"{'impl':<7} {'seconds':>8} {'(min-max)':>14} {'job/x':>6} {'peak MB':>8}  files x mean size"
    log(f"{summary['unit']:>9} {'MB':>6}  {columns}")
    for row in summary["sizes"]:
        for name, v in row["variants"].items():
            low, high = v["seconds_range"]
            spread = f"({low:.1f}-{high:.1f})"
            log(f"{row['size']:>9,} {row['input_mb']:>6.0f}  {name:<7} {v['seconds']:>8.2f} {spread:>14}"
                f" {v['job_ratio']:>6.2f} {v['peak_rss_mb']:>8,}  {_tables_text(v['tables'])}")  # fmt: skip
    print_targets(summary, log)


def print_targets(summary: dict, log=print) -> None:
    for t in summary["targets"]:
        verdict = "" if t["limit"] is None else f" (target <= {t['limit']}) " + ("met" if t["met"] else "MISSED")
        log(f"  {t['target']}: {t['value']}{verdict}")
    log(f"{summary['benchmark']}: targets met: {summary['targets_met']}")


def csv_rows(results: dict[str, dict]) -> list[dict]:
    """One row per benchmark, size, implementation and table (the process benchmarks; ingest has no tables)."""
    rows = []
    for name, summary in results.items():
        for row in summary.get("sizes", []):
            for impl, v in row["variants"].items():
                for table, t in v["tables"].items() or [("", {})]:
                    rows.append(
                        {
                            "benchmark": name,
                            "size": row["size"],
                            "unit": summary["unit"],
                            "input_mb": row["input_mb"],
                            "implementation": impl,
                            "seconds": v["seconds"],
                            "seconds_min": v["seconds_range"][0],
                            "seconds_max": v["seconds_range"][1],
                            "rounds": v["rounds"],
                            "job_ratio": v["job_ratio"],
                            "peak_rss_mb": v["peak_rss_mb"],
                            "table": table,
                            "files": t.get("files", ""),
                            "mean_file_bytes": t.get("mean_bytes", ""),
                            "max_files_per_partition": t.get("max_files_per_partition", ""),
                        }
                    )
    return rows


def chart(results: dict[str, dict], path: Path) -> Path | None:
    """Median seconds against input MB, a line per implementation, a panel per process benchmark."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = {name: s for name, s in results.items() if s.get("sizes")}
    if not panels:
        return None
    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for axis, (name, summary) in zip(axes[0], panels.items(), strict=True):
        for impl in summary["implementations"]:
            xs = [row["input_mb"] for row in summary["sizes"]]
            ys = [row["variants"][impl]["seconds"] for row in summary["sizes"]]
            axis.plot(xs, ys, marker="o", label=impl)
        axis.set_title(name)
        axis.set_xlabel("input (MB)")
        axis.set_ylabel("median wall time (s)")
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small")
    figure.suptitle("make bench: whole processes, medians of rounds", fontsize="medium")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def write(results: dict[str, dict], folder: Path, machine: dict) -> list[Path]:
    """results.json (everything), results.csv (flat) and chart.png in `folder`; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    as_json = folder / "results.json"
    as_json.write_text(json.dumps({"machine": machine, "benchmarks": results}, indent=2, default=str) + "\n")
    rows = csv_rows(results)
    as_csv = folder / "results.csv"
    with as_csv.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["benchmark"])
        writer.writeheader()
        writer.writerows(rows)
    written = [as_json, as_csv]
    drawn = chart(results, folder / "chart.png")
    return written + ([drawn] if drawn else [])
