"""How long `bmabot demo` takes until its page answers, in a fresh folder (issue 8: < 5 s).

Run: python bench/demo_startup.py [runs]. A benchmark, not a test: it prints numbers.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BMABOT = Path(sys.executable).parent / "bmabot"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def page_is_up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def one_start(fresh: bool, folder: Path) -> float:
    if fresh:
        shutil.rmtree(folder / "var", ignore_errors=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BMABOT_")}
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(BMABOT), "demo", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not page_is_up(port):
            if process.poll() is not None or time.perf_counter() - started > 60:
                raise RuntimeError("bmabot demo did not come up")
            time.sleep(0.02)
        return time.perf_counter() - started
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as folder:
        for run in range(runs):
            fresh = one_start(True, Path(folder))
            again = one_start(False, Path(folder))
            print(f"run {run + 1}: fresh folder {fresh:.2f} s, restart {again:.2f} s")


if __name__ == "__main__":
    main()
