"""A throwaway OpenLDAP server for the approvals cell: scripts/test-slapd.sh, as the tests use it.

The script makes a new folder with the inetOrgPerson schema and the ppolicy overlay, starts
slapd on a free port of 127.0.0.1 and prints `export NAME=value` lines; `stop DIR` stops it
and deletes the folder. The tests' fixture
(tests/core/directory/test_directory_contract.py) reads the same lines; the benchmark stays
apart from tests/ and reads them here.
"""

from __future__ import annotations

import asyncio
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "test-slapd.sh"
SLAPD = Path("/usr/sbin/slapd")
INSTALL_HINT = "slapd is not installed: run `bash scripts/test-slapd.sh install`"


@dataclass(frozen=True, slots=True)
class Slapd:
    url: str
    base_dn: str
    bind_dn: str
    password: str
    people_dn: str
    folder: Path
    pid: int


def installed() -> bool:
    return SLAPD.exists()


async def start_slapd() -> Slapd:
    """Start a fresh slapd (about 0.3 s) with an empty ou=people."""
    started = await asyncio.to_thread(
        subprocess.run, ["bash", str(SCRIPT), "start"], capture_output=True, text=True
    )
    if started.returncode != 0:
        raise RuntimeError(f"test-slapd.sh start failed: {started.stderr.strip()[-800:]}")
    exported: dict[str, str] = {}
    for line in started.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        exported[name] = shlex.split(value)[0]
    return Slapd(
        url=exported["LDAP_URL"],
        base_dn=exported["LDAP_BASE_DN"],
        bind_dn=exported["LDAP_BIND_DN"],
        password=exported["LDAP_BIND_PASSWORD"],
        people_dn=exported["LDAP_PEOPLE_DN"],
        folder=Path(exported["SLAPD_TEST_DIR"]),
        pid=int(exported["SLAPD_TEST_PID"]),
    )


async def stop_slapd(slapd: Slapd) -> None:
    await asyncio.to_thread(
        subprocess.run,
        ["bash", str(SCRIPT), "stop", str(slapd.folder)],
        capture_output=True,
        check=True,
    )
