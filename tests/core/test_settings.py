"""Settings come from BMABOT_* variables; a bad one is named in one clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import SettingsError, load_settings, require_secret_key


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [
        "BMABOT_DATABASE_URL",
        "BMABOT_PORT",
        "BMABOT_SECRET_KEY",
        "BMABOT_SMS_SENDER",
        "BMABOT_DIRECTORY",
        "BMABOT_ORG_FILE",
        "BMABOT_RIGHTS_GROUPS",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_serve_a_laptop() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///var/bmabot.db"
    assert (settings.host, settings.port, settings.sms_sender) == ("127.0.0.1", 8080, "BMA mail")
    assert settings.mail_domain == "bangkok.go.th"


def test_variables_override_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BMABOT_DATABASE_URL", "postgresql+asyncpg://bot@db/bmabot")
    monkeypatch.setenv("BMABOT_PORT", "9000")
    settings = load_settings()
    assert (settings.database_url, settings.port) == ("postgresql+asyncpg://bot@db/bmabot", 9000)


def test_a_dot_env_file_works(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BMABOT_PORT=8123\n")
    assert load_settings().port == 8123


def test_every_malformed_value_is_named_in_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BMABOT_PORT", "eighty")
    monkeypatch.setenv("BMABOT_DIRECTORY", "ldapp")
    monkeypatch.setenv("BMABOT_SECRET_KEY", "too-short")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    for name in ("BMABOT_PORT", "BMABOT_DIRECTORY", "BMABOT_SECRET_KEY"):
        assert name in message
    assert "too-short" not in message  # a secret is never echoed


def test_a_missing_secret_key_is_named_with_how_to_make_one() -> None:
    with pytest.raises(SettingsError, match="BMABOT_SECRET_KEY"):
        require_secret_key(load_settings())


def test_settings_cannot_be_changed_once_built() -> None:
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.port = 1  # type: ignore[misc]


def test_rights_groups_are_read_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    group = "cn=egp,ou=groups,dc=bangkok,dc=go,dc=th"
    monkeypatch.setenv("BMABOT_RIGHTS_GROUPS", f'{{"egp": "{group}"}}')
    assert load_settings().rights_groups == {"egp": group}


def test_a_right_that_does_not_exist_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BMABOT_RIGHTS_GROUPS", '{"e-gp": "cn=x"}')
    with pytest.raises(SettingsError, match="BMABOT_RIGHTS_GROUPS"):
        load_settings()
