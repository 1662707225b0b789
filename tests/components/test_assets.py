"""What ships as code: job scripts, the modules they share, Lambda sources, each keyed by a hash of its content."""

from components import assets
from pipelines import lake


def test_content_hash_changes_with_the_content_and_the_names(tmp_path):
    script = tmp_path / "job.py"
    script.write_text("print(1)\n")
    before = assets.content_hash({"job.py": script})
    assert before == assets.content_hash({"job.py": script})
    assert assets.content_hash({"other.py": script}) != before
    script.write_text("print(2)\n")
    assert assets.content_hash({"job.py": script}) != before
    assert len(before) == 16


def test_jobs_are_the_modules_without_a_leading_underscore(tmp_path):
    for name in ("orders.py", "_shared.py", "sparkify.py"):
        (tmp_path / name).write_text("")
    assert list(assets.job_scripts(tmp_path)) == ["orders", "sparkify"]
    assert "orders" in assets.job_scripts()


def test_the_py_files_archive_holds_the_shared_job_modules_and_pipelines():
    files = assets.job_dependencies()
    assert all(name.startswith("_") or name.startswith("pipelines/") for name in files)
    assert "pipelines/__init__.py" in files
    assert not [name for name in files if "__pycache__" in name]


def test_a_lambda_archive_is_laid_out_as_the_repository():
    files = assets.lambda_files("start_glue_job")
    assert files["functions/start_glue_job.py"] == assets.ROOT / "functions" / "start_glue_job.py"
    assert "functions/__init__.py" in files
    assert assets.lambda_handler("start_glue_job") == "functions.start_glue_job.handler"


def test_keys_live_under_the_declared_code_prefixes(tmp_path):
    script = tmp_path / "job.py"
    script.write_text("print(1)\n")
    files = {"job.py": script}
    assert assets.hashed_key(lake.JOB_CODE, "job", files, ".py") == f"jobs/job-{assets.content_hash(files)}.py"
    assert assets.hashed_key(lake.FUNCTION_CODE, "f", files, ".zip").startswith("functions/f-")
