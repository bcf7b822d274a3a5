"""Installed as a wheel (not editable) in a new virtual environment, `bmabot chat` works
and the rich menu and the poster are drawn with the fonts the wheel carries."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.handlers.chat import sample_photo

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    bool(os.environ.get("BMABOT_TEST_DATABASE_URL")),
    reason="installation does not depend on the database: checked once, in the SQLite run",
)
@pytest.mark.timeout(600)  # pip installs every dependency: a minute, more on a busy machine
def test_pip_install_then_piped_chat_completes_an_application(tmp_path: Path) -> None:
    environment = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(environment)
    python = environment / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(PROJECT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    photo = tmp_path / "id-card.jpg"
    photo.write_bytes(sample_photo())
    answers = [
        "สมัคร",
        "ยอมรับและเริ่มกรอก",
        "บุคลากรประจำ กทม.",
        "บางรัก",
        "สำนักงานเขตบางรัก",
        "ฝ่ายทะเบียน",
        "ไม่มี/ข้าม",
        "นักวิชาการคอมพิวเตอร์",
        "นาย",
        "สมชาย",
        "ใจดี",
        "Mr.",
        "Somchai",
        "Jaidee",
        "1 1037 00123 45 8",
        "ไทย",
        "081-234-5678",
        "somchai@gmail.com",
        str(photo),
        "ถูกต้อง ส่งคำขอ",
    ]
    workplace = tmp_path / "work"
    workplace.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BMABOT_")}
    result = subprocess.run(
        [str(environment / "bin" / "bmabot"), "chat", "--user", "somchai"],
        input="\n".join(answers) + "\n",
        capture_output=True,
        text=True,
        cwd=workplace,
        env=env,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert re.search(r"ส่งคำขอเรียบร้อยแล้วค่ะ เลขที่คำขอ A\d\d-00001", result.stdout)
    assert "1103700123458" not in result.stdout
    assert (workplace / "var" / "chat" / "bmabot.db").exists()  # its own folder
    assert sys.prefix not in str(python)  # it really ran outside the development venv

    # `bmabot line richmenu` draws with the font inside the wheel, whatever the machine has.
    drawn = subprocess.run(
        [str(python), "-c", DRAW_RICH_MENU],
        capture_output=True,
        text=True,
        cwd=workplace,
        env=env,
        timeout=120,
        check=False,
    )
    assert drawn.returncode == 0, drawn.stderr
    font, size = drawn.stdout.split()
    assert Path(font).is_relative_to(environment)  # the wheel's copy, not the source tree's
    assert Path(font).name == "Sarabun-Bold.ttf"
    assert 0 < int(size) <= 1024 * 1024

    # So does `bmabot poster`, with the wheel's Sarabun Regular beside the Bold.
    poster = subprocess.run(
        [str(environment / "bin" / "bmabot"), "poster"],
        capture_output=True,
        text=True,
        cwd=workplace,
        env={**env, "BMABOT_TELEGRAM_BOT_USERNAME": "bma_account_bot"},
        timeout=120,
        check=False,
    )
    assert poster.returncode == 0, poster.stderr
    assert (workplace / "bmabot-poster.pdf").stat().st_size > 0


DRAW_RICH_MENU = """
from bot.catalog import Catalog
from webhooks.line.richmenu import FONT, rich_menu_image
print(FONT, len(rich_menu_image(Catalog.load())))
"""
