"""The Thai fonts the package carries, for what bmabot draws (the LINE rich menu, the stats
chart, the poster): the same everywhere, and a slim server image needs no Thai font installed.

Sarabun Bold and Regular 1.000 by Cadson Demak, unmodified from Google Fonts' ofl/sarabun,
under the SIL Open Font License 1.1 (OFL.txt beside them).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

SARABUN_BOLD = resources.files(__name__) / "Sarabun-Bold.ttf"
SARABUN_REGULAR = resources.files(__name__) / "Sarabun-Regular.ttf"


@cache
def sarabun_bold() -> bytes:
    """The font's bytes, read once (from the wheel's files, wherever it is installed)."""
    return SARABUN_BOLD.read_bytes()
