"""`bmabot faq test FILE`: the staff who keep the help topics see which questions go right."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.webhooks.admin_world import admin, bmabot

__all__ = ["admin"]


async def test_each_question_is_marked_and_the_right_ones_counted(
    admin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = tmp_path / "questions.tsv"
    listing.write_text(
        "ลืมรหัสผ่านค่ะ\tforgot_password\nวันนี้อากาศดีจัง\t-\nเข้าเมลไม่ได้\twifi_problem\n",
        encoding="utf-8",
    )

    code = await bmabot("faq", "test", str(listing))

    out = capsys.readouterr().out
    assert code == 0
    assert "✓ ลืมรหัสผ่านค่ะ → forgot_password" in out
    assert "✓ วันนี้อากาศดีจัง → -" in out
    assert "✗ เข้าเมลไม่ได้ → email_access  (expected wifi_problem)" in out
    assert "2 of 3 right" in out


async def test_a_malformed_list_is_refused_naming_the_line(
    admin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = tmp_path / "questions.tsv"
    listing.write_text("ลืมรหัสผ่านค่ะ forgot_password\n", encoding="utf-8")

    assert await bmabot("faq", "test", str(listing)) == 1
    assert "line 1" in capsys.readouterr().err
