"""The README a newcomer reads: commands that run as written, the options they name exist, the licence is there."""

from __future__ import annotations

import re
from pathlib import Path

from local import run
from tests.infra import ROOT
from tools import query

README = (ROOT / "README.md").read_text()


def code_lines() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_python_commands_use_the_virtualenv():
    # A bare `python` on a fresh machine is not the one with the requirements installed.
    bare = [line for line in code_lines() if re.match(r"python3? (?!-m venv)", line)]
    assert bare == []
    inline = re.findall(r"`(python3? [^`]*)`", README)
    assert [c for c in inline if not c.startswith("python3 -m venv")] == []


def test_the_options_the_readme_names_exist():
    options = {a for action in run._parser()._actions for a in action.option_strings}
    for line in code_lines():
        if line.startswith(".venv/bin/python -m local.run"):
            assert set(re.findall(r"--[a-z-]+", line.split("#")[0])) <= options, line
    client = {a for action in query._parser()._actions for a in action.option_strings}
    for line in code_lines():
        if line.startswith(".venv/bin/python tools/query.py"):
            assert set(re.findall(r"--[a-z-]+", line.split("#")[0])) <= client, line


def test_the_kindle_dataset_page_is_linked():
    assert "[Amazon Reviews 2023](https://amazon-reviews-2023.github.io/)" in README


def test_the_licence_is_apache_2():
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def mirror(module: Path) -> Path:
    """tests/<folder>/test_<name>.py for <folder>/<name>.py, underscores around the name dropped (_io.py: test_io)."""
    relative = module.relative_to(ROOT)
    return ROOT / "tests" / relative.parent / f"test_{relative.stem.strip('_')}.py"


def test_the_rooms_the_layout_says_tests_mirror_are_mirrored():
    (line,) = [line for line in README.split("\n## Layout", 1)[1].splitlines() if line.startswith("tests/")]
    rooms = set(re.findall(r"\b([a-z_]+)/", line.split("#", 1)[1])) - {"tests"}
    assert rooms, line
    modules = [path for room in sorted(rooms) for path in (ROOT / room).rglob("*.py") if path.name != "__init__.py"]
    assert [str(m.relative_to(ROOT)) for m in modules if not mirror(m).exists()] == []
