"""BMABOT_VERIFY_MOBILE: on for the service; the demo and the terminal chat send no codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from webhooks.runtime import trial_settings


def test_the_demo_and_the_terminal_chat_ask_for_no_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BMABOT_VERIFY_MOBILE", raising=False)
    assert trial_settings(tmp_path).verify_mobile is False
    assert trial_settings(tmp_path, verify_mobile=True).verify_mobile is True
