"""A Lambda's code archive built exactly as the program ships it (components/assets.py), and code run against it
alone: a fresh interpreter whose only code is the unpacked archive, as in /var/task, with the runtime's and layers'
packages (boto3, pyarrow) and none of the program's or the tests' (no sqlglot, duckdb, pyspark, pulumi)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from components import assets

# What no Lambda package ships: importing any of them in the archive's process fails.
NOT_SHIPPED = ("sqlglot", "duckdb", "pyspark", "pulumi", "pulumi_aws", "tests", "components", "local", "settings")


def unpack(handler: str, folder: Path, **options) -> Path:
    """The archive of `handler` as a zip (the names lambda_files gives, as the AssetArchive has them), unpacked."""
    archive = folder / f"{handler}.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for name, path in assets.lambda_files(handler, **options).items():
            out.write(path, name)
    code = folder / "task"
    with zipfile.ZipFile(archive) as packed:
        packed.extractall(code)
    return code


def run_alone(code: Path, module: str, script: str, env: dict[str, str] | None = None) -> object:
    """Run `script` with only `code` on sys.path for our modules and `handler` bound as Lambda binds it from the
    function's handler setting (assets.lambda_handler(module)); returns the JSON its last line prints."""
    prelude = (
        "import importlib, sys\n"
        f"sys.modules.update(dict.fromkeys({NOT_SHIPPED!r}))\n"
        f"sys.path.insert(0, {str(code)!r})\n"
        f"_module, _name = {assets.lambda_handler(module)!r}.rsplit('.', 1)\n"
        "handler = getattr(importlib.import_module(_module), _name)\n"
        "import functions\n"
        f"assert functions.__file__.startswith({str(code)!r}), functions.__file__\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", prelude + script],
        cwd=code,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "eu-west-1", **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def use_shipped_queries(monkeypatch) -> None:
    """Make functions/query_api.py read the queries document the program ships (it has none in the repository)."""
    from functions import query_api

    monkeypatch.setattr(query_api, "QUERIES_DOCUMENT", assets.queries_document())
    query_api.queries.cache_clear()
