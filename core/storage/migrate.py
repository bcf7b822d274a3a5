"""`python -m core.storage.migrate`: the migrations to head for BMABOT_DATABASE_URL.

`bmabot serve` runs this in a child process when the database is behind, so that alembic and
the modules it brings (mako, pygments; about 9 MB) never stay in the long-running server.
"""

from __future__ import annotations

import os
import sys

from core.storage.db import upgrade_database

URL_VARIABLE = "BMABOT_DATABASE_URL"  # in the environment, never on the command line


def main() -> int:
    url = os.environ.get(URL_VARIABLE)
    if not url:
        print(f"{URL_VARIABLE} is not set: which database to upgrade?", file=sys.stderr)
        return 2
    upgrade_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
