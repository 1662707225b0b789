"""guardrails/props.py: properties as the analyzer's proxies hand them over, unknown values kept as one falsy
marker, and JSON document properties parsed or refused with the reason."""

from __future__ import annotations

import pytest
from pulumi_policy import Secret
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from guardrails.props import UNKNOWN, as_list, document, get, is_unknown, plain


def test_plain_reads_through_the_analyzers_proxies_and_keeps_unknowns_as_markers():
    props = unknown_checking_proxy(
        {"policy": UNKNOWN_STRING_VALUE, "rules": [{"status": "Enabled"}], "tags": UNKNOWN_ARRAY_VALUE, "n": 7.0}
    )
    # What a policy reading the proxy directly would hit: the whole policy skipped with a warning.
    with pytest.raises(UnknownValueError):
        props["policy"]
    assert plain(props) == {"policy": UNKNOWN, "rules": [{"status": "Enabled"}], "tags": UNKNOWN, "n": 7.0}
    assert get(plain(props), "tags", "datalake:zone") is UNKNOWN
    assert get(plain(props), "rules", "status") is None


def test_json_documents_parse_or_say_why_not():
    assert document('{"Statement": []}') == {"Statement": []}
    assert document(UNKNOWN) is UNKNOWN
    assert document(None) is None
    with pytest.raises(ValueError, match="is not a JSON object"):
        document("[]")
    with pytest.raises(ValueError, match="is not valid JSON"):
        document("{")


def test_the_unknown_marker_is_one_falsy_value_that_equals_no_real_one():
    assert plain(UNKNOWN_STRING_VALUE) is plain(UNKNOWN_ARRAY_VALUE) is UNKNOWN
    assert not UNKNOWN
    assert is_unknown(UNKNOWN)
    assert [value for value in (None, "", 0, False, {}) if is_unknown(value) or value == UNKNOWN] == []


def test_secrets_are_read_as_their_value():
    assert plain({"password": Secret("hunter2")}) == {"password": "hunter2"}


def test_a_missing_level_is_none_and_one_value_reads_as_a_list():
    props = {"logging": {"level": "ALL"}, "arns": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
    assert get(props, "logging", "destination") is None
    assert get(props, "logging", "level", "deeper") is None
    assert as_list(props["arns"]) == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    assert as_list(None) == []
    assert as_list(["a", "b"]) == ["a", "b"]
