"""Which code a result belongs to: the commit, and a digest of uncommitted changes to it."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def code_version() -> str:
    """The commit bmabot runs from, and a digest of uncommitted changes to its code if any."""
    head = _git("rev-parse", "--short", "HEAD") or "unknown"
    changes = _git("status", "--porcelain", "--", "core", "bot", "webhooks")
    if not changes:
        return head
    diff = _git("diff", "HEAD", "--", "core", "bot", "webhooks")
    digest = hashlib.sha1((changes + diff).encode()).hexdigest()[:8]
    return f"{head}+uncommitted:{digest}"


def _git(*command: str) -> str:
    try:
        done = subprocess.run(
            ["git", "--no-optional-locks", *command],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return ""
    return done.stdout.strip()
