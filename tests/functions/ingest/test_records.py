"""functions/ingest/records.py: a file split into records as the job splits it, one parsed document at a time."""

from __future__ import annotations

import json

import pytest

from functions.ingest import records


def test_not_utf8_is_rejected_whole():
    with pytest.raises(records.FileRejected, match="not UTF-8"):
        records.decode(b'[{"order_id": "\xff"}]')


def test_array_elements_are_numbered_from_one_with_where_their_text_is():
    text = '[ {"a": 1},\n  42 , "x"]\n'
    found = list(records.records(text))
    assert [(position, value) for position, value, _ in found] == [(1, {"a": 1}), (2, 42), (3, "x")]
    assert [text[where] for _, _, where in found] == ['{"a": 1}', "42", '"x"']


@pytest.mark.parametrize("text", ["[1, 2", "[1 2]", "[1] [2]", "[1,]"])
def test_an_array_that_is_not_exactly_one_array_does_not_parse(text):
    with pytest.raises(json.JSONDecodeError):
        list(records.records(text))


def test_json_lines_keep_their_line_numbers_and_mark_what_does_not_parse():
    found = list(records.records('{"a": 1}\n\n  \r\nnot json\n[1]\n'))
    assert found == [(1, {"a": 1}, '{"a": 1}'), (4, records.UNPARSED, "not json"), (5, [1], "[1]")]
    assert records.is_array(" \n[")
    assert not records.is_array('{"a": [1]}')
