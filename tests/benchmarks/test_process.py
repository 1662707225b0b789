"""benchmarks/_process.py: peak memory is the summed RSS of the whole process tree, sampled while it runs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from benchmarks import _process

# A parent that starts a child; each holds `mb` MB resident for a moment.
HOLD = "import sys, time; block = bytearray({mb} * 1000 * 1000); time.sleep({seconds})"
PARENT = (
    "import subprocess, sys; child = subprocess.Popen([sys.executable, '-c', {child!r}]); "
    + HOLD.format(mb=120, seconds=1.5)
    + "; child.wait()"
)


def fake_proc(tmp_path: Path, processes: dict[int, tuple[int, int]]) -> Path:
    """A /proc with pid -> (parent pid, resident pages), the command names awkward on purpose."""
    for pid, (parent, pages) in processes.items():
        folder = tmp_path / str(pid)
        folder.mkdir()
        (folder / "stat").write_text(f"{pid} (a) b (c)) S {parent} 1 1 0 -1\n")
        (folder / "statm").write_text(f"1000 {pages} 10 1 0 5 0\n")
    (tmp_path / "self").mkdir()
    return tmp_path


def test_the_tree_is_the_process_and_every_descendant(tmp_path):
    proc = fake_proc(tmp_path, {1: (0, 1), 10: (1, 100), 11: (10, 200), 12: (11, 300), 20: (1, 5000)})
    assert sorted(_process.process_tree(10, proc)) == [10, 11, 12]
    assert _process.tree_rss_bytes(10, proc) == 600 * _process.PAGE_BYTES
    assert _process.rss_bytes(99, proc) == 0


def test_a_child_s_memory_counts_towards_the_peak():
    child = HOLD.format(mb=200, seconds=1.5)
    measured = _process.run([sys.executable, "-c", PARENT.format(child=child)])
    # Both resident at once: more than either alone (200 MB child, 120 MB parent), less than a wild overcount.
    assert 320e6 < measured.peak_rss_bytes < 600e6
    assert measured.seconds >= 1.5


def test_a_failing_command_names_its_last_stderr_line():
    command = [sys.executable, "-c", "import sys; print('first', file=sys.stderr); sys.exit('job: error: bad')"]
    with pytest.raises(_process.ProcessFailed, match=r"exited 1: job: error: bad$"):
        _process.run(command)


def test_a_process_that_ends_while_the_tree_is_read_is_left_out(tmp_path, monkeypatch):
    # /proc/<pid>/stat of a process that has just ended answers ESRCH (ProcessLookupError), not ENOENT, to a stat()
    # or an open(): make bench lost its sparkify benchmark to it when a Spark worker ended mid-sample.
    proc = fake_proc(tmp_path, {1: (0, 1), 2: (1, 2), 3: (1, 3)})
    ended = str(proc / "3")
    real_stat, real_open = os.stat, Path.open

    def stat(path, *args, **kwargs):
        if str(path).startswith(ended):
            raise ProcessLookupError(3, "No such process", str(path))
        return real_stat(path, *args, **kwargs)

    def open_(path, *args, **kwargs):
        if str(path).startswith(ended):
            raise ProcessLookupError(3, "No such process", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(Path, "open", open_)
    assert sorted(_process.process_tree(1, proc)) == [1, 2]
    assert _process.tree_rss_bytes(1, proc) == 3 * _process.PAGE_BYTES
