"""Reading a webhook body defensively: strict JSON, shallow, every string storable as UTF-8."""

from __future__ import annotations

import json

import pytest

from webhooks.json_body import MAX_DEPTH, read_json


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_a_normal_body_reads_as_it_was_sent() -> None:
    body = {"events": [{"type": "message", "message": {"text": "สวัสดี 😀", "n": 1.5}}]}
    assert read_json(json.dumps(body, ensure_ascii=False).encode()) == body


def test_lone_surrogates_in_values_are_replaced() -> None:
    assert read_json(b'{"text": "a\\ud800b\\udfff"}') == {"text": "a\ufffdb\ufffd"}


def test_lone_surrogates_in_keys_are_replaced() -> None:
    assert read_json(b'{"\\udc00key": 1}') == {"\ufffdkey": 1}


def test_lone_surrogates_deep_in_lists_and_at_the_top_are_replaced() -> None:
    assert read_json(b'[[["\\ud800"]]]') == [[["\ufffd"]]]
    assert read_json(b'"\\ud800"') == "\ufffd"


def test_a_surrogate_pair_stays_one_character() -> None:
    assert read_json(b'"\\ud83d\\ude00"') == "😀"


def test_what_it_reads_always_encodes_as_utf8() -> None:
    document = read_json(b'{"\\ud800": ["\\udbff", {"x": "\\udc00"}]}')
    json.dumps(document, ensure_ascii=False).encode("utf-8")


def test_nesting_up_to_the_limit_is_taken() -> None:
    assert read_json(nested(MAX_DEPTH)) is not None


def test_nesting_beyond_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="nested"):
        read_json(nested(MAX_DEPTH + 1))


def test_nesting_that_would_exhaust_the_parser_is_refused() -> None:
    with pytest.raises(ValueError, match="nested"):
        read_json(b"[" * 100_000)


def test_objects_count_as_levels_like_lists() -> None:
    body = b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1)
    with pytest.raises(ValueError, match="nested"):
        read_json(body)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"\xff\xfe{}",
        b'{"text": "\xed\xa0\x80"}',  # a surrogate as raw UTF-8 bytes
        b'"\xe0\xb8"',  # a Thai letter cut short
        b"NaN",
        b'{"n": Infinity}',
        b'{"n": 1e999}',
        b"{}{}",
    ],
)
def test_what_no_platform_sends_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - ValueError is the whole contract
        read_json(body)
