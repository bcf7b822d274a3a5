"""A webhook body read defensively: strict UTF-8 JSON, shallow, and every string storable."""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32  # LINE and Telegram nest a handful of levels; more is not theirs
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def read_json(body: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of a body; raises ValueError for anything a platform would not send.

    A lone surrogate ("\\ud800") is valid JSON but cannot be encoded as UTF-8, so it is
    replaced with U+FFFD in every key and value: the stored payload always encodes.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the body is not UTF-8") from None
    try:
        document = json.loads(text, parse_float=_finite, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("the body is nested too deeply") from None
    if _plainly_fine(body, max_depth):
        return document  # the usual webhook: no walk needed (it costs more than the parse)
    return _cleaned(document, max_depth)


def _plainly_fine(body: bytes, max_depth: int) -> bool:
    """No surrogate escape anywhere, and too few brackets to nest deeper than allowed.

    A lone surrogate can only arrive as an escape: raw UTF-8 cannot encode one.
    """
    brackets = body.count(b"{") + body.count(b"[")
    return brackets <= max_depth and b"\\ud" not in body.lower()


def _finite(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise ValueError("a number too large for a float")  # 1e999 would read as infinity
    return number


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _cleaned(document: Any, max_depth: int) -> Any:
    """The document with lone surrogates replaced, walked without recursion (depth-checked)."""
    root = [document]
    pending: list[tuple[list[Any] | dict[str, Any], int]] = [(root, 0)]
    while pending:
        container, depth = pending.pop()
        if depth > max_depth:
            raise ValueError(f"the body is nested deeper than {max_depth} levels")
        for place, value in _slots(container):
            if isinstance(value, str):
                container[place] = _text(value)
            elif isinstance(value, (list, dict)):
                pending.append((value, depth + 1))
    return root[0]


def _slots(container: list[Any] | dict[str, Any]) -> list[tuple[Any, Any]]:
    """Each place in a container and what it holds; a dict's keys are cleaned first."""
    if isinstance(container, list):
        return list(enumerate(container))
    if any(not key.isascii() for key in container):
        cleaned = {_text(key): value for key, value in container.items()}
        container.clear()
        container.update(cleaned)
    return list(container.items())


def _text(value: str) -> str:
    return value if value.isascii() else LONE_SURROGATE.sub(REPLACEMENT, value)
