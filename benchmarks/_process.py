"""Whole processes timed as a user runs them: wall time, and peak memory as the sum of the resident sets of the
process tree (a job's JVM is a child of its Python process), sampled from /proc while it runs."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
SAMPLE_SECONDS = 0.1


class ProcessFailed(RuntimeError):
    """A measured command exited non-zero: its command line and the last line it wrote to stderr."""


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_bytes: int


def _parents(proc: Path) -> dict[int, int]:
    """pid -> parent pid of every process in `proc` (one that ends while being read is left out).

    Listed by name, not globbed: Path.glob checks each `<pid>/stat` exists first, and the file of a process that has
    just ended answers ESRCH (ProcessLookupError), which that check does not take for "absent" and raises."""
    parents = {}
    for name in os.listdir(proc):
        if not name.isdigit():
            continue
        try:
            # The command name, in parentheses, may hold spaces and ')': the fields after the last ')' are fixed.
            fields = (proc / name / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(name)] = int(fields[1])
    return parents


def process_tree(pid: int, proc: Path = PROC) -> list[int]:
    """`pid` and all its descendants."""
    children: dict[int, list[int]] = {}
    for child, parent in _parents(proc).items():
        children.setdefault(parent, []).append(child)
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, ()))
    return tree


def rss_bytes(pid: int, proc: Path = PROC) -> int:
    """The resident set of one process (0 once it has ended): the second field of /proc/<pid>/statm, in pages."""
    try:
        return int((proc / str(pid) / "statm").read_text().split()[1]) * PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss_bytes(pid: int, proc: Path = PROC) -> int:
    """The sum of the resident sets of `pid` and its descendants, now."""
    return sum(rss_bytes(p, proc) for p in process_tree(pid, proc))


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(nothing on stderr)"


def run(argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> Measured:
    """Run `argv` to its end; its wall time and the peak of its process tree's summed RSS (sampled every 0.1 s).

    Output goes to temporary files, so a chatty process never blocks on a full pipe."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=out, stderr=err)
        peak = 0
        while child.poll() is None:
            peak = max(peak, tree_rss_bytes(child.pid))
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - started
        if child.returncode:
            err.seek(0)
            stderr = err.read().decode(errors="replace")
            raise ProcessFailed(f"{' '.join(argv)} exited {child.returncode}: {_last_line(stderr)}")
    return Measured(seconds=seconds, peak_rss_bytes=peak)
