"""Entry point the Pulumi CLI runs for `--policy-pack guardrails`: it only constructs the PolicyPack."""

import sys
from pathlib import Path

# The CLI runs this folder as a script, so only the folder itself is importable; the policies import as the
# `guardrails` package, as the tests import them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from guardrails.rules import PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, policies=POLICIES)
