"""`bmabot chat` at a real terminal (a pseudo-terminal): lines can be edited, Ctrl-C leaves
politely, never with a traceback."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

CHAT = "from webhooks.cli import main; raise SystemExit(main())"
PATIENCE = 60.0  # seconds: start-up imports and migrates a new database on a busy machine
CTRL_A = b"\x01"  # readline: to the start of the line
LEFT = b"\x1b[D"  # the left arrow key, as a terminal sends it
PROMPT = "คุณ: "  # the chat waits for a line

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("BMABOT_TEST_DATABASE_URL")),
    reason="the terminal does not depend on the database: checked once, in the SQLite run",
)


@dataclass
class Terminal:
    process: subprocess.Popen[bytes]
    screen: int  # our side of the pseudo-terminal
    shown: bytes = b""

    @property
    def output(self) -> str:
        return self.shown.decode("utf-8", "replace")

    def type(self, keys: bytes) -> None:
        os.write(self.screen, keys)

    def interrupt(self) -> None:
        """Ctrl-C: the terminal sends SIGINT to the program in front."""
        self.process.send_signal(signal.SIGINT)

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + PATIENCE
        while text not in self.output:
            if time.monotonic() > deadline or not self._read(deadline - time.monotonic()):
                raise AssertionError(f"{text!r} never shown; the screen:\n{self.output}")

    def exit_status(self) -> int:
        """Everything the program still prints, then how it ended."""
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline and self._read(deadline - time.monotonic()):
            pass
        return self.process.wait(timeout=PATIENCE)

    def _read(self, seconds: float) -> bool:
        """Read what is there; False once the program has closed its side."""
        ready, _, _ = select.select([self.screen], [], [], max(0.0, min(seconds, 1.0)))
        if not ready:
            return self.process.poll() is None
        try:
            chunk = os.read(self.screen, 65536)
        except OSError:  # EIO: the program is gone
            return False
        self.shown += chunk
        return bool(chunk)


@contextmanager
def chat_at_a_terminal(workplace: Path) -> Iterator[Terminal]:
    screen, keyboard = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BMABOT_")}
    env |= {"TERM": "xterm", "LC_ALL": "C.UTF-8", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", CHAT, "chat", "--user", "somchai"],
        stdin=keyboard,
        stdout=keyboard,
        stderr=keyboard,
        cwd=workplace,
        env=env,
        start_new_session=True,  # a signal for the test run never reaches it
    )
    os.close(keyboard)
    try:
        yield Terminal(process, screen)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=PATIENCE)
        os.close(screen)


def test_ctrl_c_at_the_prompt_leaves_politely(tmp_path: Path) -> None:
    with chat_at_a_terminal(tmp_path) as terminal:
        terminal.wait_for(PROMPT)

        terminal.interrupt()

        assert terminal.exit_status() == 0
    assert "Traceback" not in terminal.output
    assert "KeyboardInterrupt" not in terminal.output
    assert "ออกจากแชตแล้วค่ะ" in terminal.output


def test_a_typed_line_can_be_edited_before_it_is_sent(tmp_path: Path) -> None:
    with chat_at_a_terminal(tmp_path) as terminal:
        terminal.wait_for(PROMPT)

        # "มัคร", back to the start of the line, "ส" in front of it: the line sent is สมัคร
        terminal.type("มัคร".encode() + CTRL_A + "ส".encode() + b"\r")
        terminal.wait_for("ยอมรับและเริ่มกรอก")
        # a letter left out, put in with the arrow key: "/qut", left, "i" -> /quit
        terminal.type(b"/qut" + LEFT + b"i\r")

        assert terminal.exit_status() == 0
    assert "ยังไม่เข้าใจ" not in terminal.output
    assert "ออกจากแชตแล้วค่ะ" in terminal.output
