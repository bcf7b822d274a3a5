"""`bmabot org import FILE`: a checked tree, a report of the changes, installed for the runtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.clock import ManualClock
from core.settings import load_settings, require_secret_key
from core.storage.crypto import Vault
from tests.core.rules.test_organisation import SMALL_FILE
from tests.webhooks.admin_world import SOMCHAI_FORM, Sessions, admin, bmabot, submit
from webhooks.compose import open_services

__all__ = ["admin"]

TREE = SMALL_FILE
# dept-a renamed, dept-b added, dept-a-division moved under it, district-1 (and its section)
# removed.
NEW_TREE = """\
version: 1
units:
  - id: dept-a
    kind: department
    name_th: สำนักเอใหม่
  - id: dept-b
    kind: department
    name_th: สำนักบี
    children:
      - id: dept-a-division
        kind: division
        name_th: กองบี
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_import_reports_the_changes_and_the_runtime_reads_the_new_tree(
    admin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    installed = write(admin, "org.yaml", TREE)
    new = write(tmp_path, "new-org.yaml", NEW_TREE)

    assert await bmabot("org", "import", str(new)) == 0

    out = capsys.readouterr().out
    assert "+ dept-b  สำนักบี  (under top level)" in out
    assert "- district-1  สำนักงานเขตหนึ่ง" in out
    assert "- district-1-registration  ฝ่ายทะเบียน" in out
    assert "~ dept-a  สำนักเอ -> สำนักเอใหม่" in out
    assert "> dept-a-division  dept-a สำนักเอ -> dept-b สำนักบี" in out
    assert installed.read_text(encoding="utf-8") == NEW_TREE
    assert (admin / "org.previous.yaml").read_text(encoding="utf-8") == TREE
    settings = load_settings()
    async with open_services(settings, secret_key=require_secret_key(settings)) as services:
        assert services.organisation.unit("dept-b").name_th == "สำนักบี"


async def test_first_import_replaces_the_packaged_tree(
    admin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = write(tmp_path, "new-org.yaml", TREE)

    assert await bmabot("org", "import", str(new)) == 0

    assert "from the packaged core/rules/bma-org.yaml" in capsys.readouterr().out
    assert (admin / "org.yaml").read_text(encoding="utf-8") == TREE


async def test_with_an_org_file_setting_that_file_is_the_one_replaced(
    admin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = write(tmp_path / "etc", "bma-org.yaml", TREE)
    monkeypatch.setenv("BMABOT_ORG_FILE", str(configured))
    new = write(tmp_path, "new-org.yaml", NEW_TREE)

    assert await bmabot("org", "import", str(new)) == 0

    assert configured.read_text(encoding="utf-8") == NEW_TREE
    assert not (admin / "org.yaml").exists()


@pytest.mark.parametrize(
    ("mistake", "reason"),
    [
        (("id: dept-b", "id: dept-a"), "line 6, unit 'dept-a': duplicate id (also at line 3)"),
        (("    name_th: สำนักบี\n", ""), "line 6, unit 'dept-b': 'name_th' is missing"),
        (("units:", "units: ["), "not valid YAML"),
    ],
)
async def test_an_invalid_file_is_refused_with_the_reason_and_nothing_is_installed(
    admin: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    mistake: tuple[str, str],
    reason: str,
) -> None:
    installed = write(admin, "org.yaml", TREE)
    broken = write(tmp_path, "broken.yaml", NEW_TREE.replace(*mistake))

    assert await bmabot("org", "import", str(broken)) == 1

    error = capsys.readouterr().err
    assert error.startswith(f"not installed: {broken}")
    assert reason in error
    assert installed.read_text(encoding="utf-8") == TREE
    assert not (admin / "org.previous.yaml").exists()


async def test_a_dry_run_reports_and_installs_nothing(
    admin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    installed = write(admin, "org.yaml", TREE)
    new = write(tmp_path, "new-org.yaml", NEW_TREE)

    assert await bmabot("org", "import", "--dry-run", str(new)) == 0

    out = capsys.readouterr().out
    assert "+ dept-b" in out
    assert "dry run: nothing installed" in out
    assert installed.read_text(encoding="utf-8") == TREE
    assert not (admin / "org.previous.yaml").exists()


async def test_applications_naming_a_removed_unit_are_counted(
    admin: Path,
    tmp_path: Path,
    sessions: Sessions,
    vault: Vault,
    clock: ManualClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write(admin, "org.yaml", TREE)
    unit = ["district-1", "district-1-registration"]
    await submit(sessions, vault, clock, fields={**SOMCHAI_FORM, "unit": unit})
    new = write(tmp_path, "new-org.yaml", NEW_TREE)

    assert await bmabot("org", "import", "--dry-run", str(new)) == 0

    assert "1 application(s) name a removed unit" in capsys.readouterr().out


async def test_the_same_tree_again_changes_nothing(
    admin: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    installed = write(admin, "org.yaml", TREE)

    assert await bmabot("org", "import", str(installed)) == 0

    assert "no unit added, removed, renamed or moved" in capsys.readouterr().out
    assert installed.read_text(encoding="utf-8") == TREE
