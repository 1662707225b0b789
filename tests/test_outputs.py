"""Stack outputs analysts consume: each one the program exports has a row in the README, and no row is stale."""

import pytest

from tests.infra import ROOT


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_readme_documents_exactly_the_stack_outputs(stack_run, stack):
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Stack outputs") :]
    table = table[: table.index("\n## ")]
    documented = {line.split("`")[1] for line in table.splitlines() if line.startswith("| `")}
    exported = set(stack_run(stack).outputs)
    # Outputs that are null in a stack (glue_etl_dead_letter_queue on a schedule, api_key_id with IAM) are not
    # exported there, so each documented row must be exported by at least one stack.
    assert exported <= documented, f"undocumented outputs: {sorted(exported - documented)}"
    assert documented <= set(stack_run("dev").outputs) | set(stack_run("prod").outputs)
