"""The security log: one structured line per event, and never personal data."""

from __future__ import annotations

import logging

import pytest

from core.audit.security_log import Event, security_event


def test_an_event_is_one_line_of_key_value_pairs(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="bmabot.security"):
        security_event(Event.RATE_LIMITED, channel="line", limit="messages_per_minute")
    assert [record.getMessage() for record in caplog.records] == [
        "security event=rate_limited channel=line limit=messages_per_minute"
    ]
    assert caplog.records[0].name == "bmabot.security"


@pytest.mark.parametrize(
    "value",
    ["1101700203451", "0812345678", "สมชาย", "two words", "line\nforged=1", "x" * 121, ""],
)
def test_a_value_that_could_be_personal_or_forge_a_field_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="non-personal"):
        security_event(Event.EXPORT, who=value)
