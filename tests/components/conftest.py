"""Fixtures of the component tests."""

from collections.abc import Iterator

import pytest

from tests.components.definitions import Asl, asl_interpreter


@pytest.fixture(scope="module")
def asl() -> Iterator[Asl]:
    """moto's ASL interpreter, allowed to parse the .sync integrations it cannot run (mocked tasks never call them)."""
    yield from asl_interpreter()
