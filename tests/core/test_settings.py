"""Settings come from BMABOT_* variables; a bad one is named in one clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import SettingsError, load_settings, require, require_secret_key
from tests.conftest import TEST_SECRET_KEY

MAKE_A_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
LINE_SHAPED = "9c9364b93bcee3886c6215bac64b9161"  # what the LINE Developers console shows
WEAK_KEYS = {
    "a x 32": "a" * 32,
    "32 digits": "81297244681336251934607384802184",
    "password x 4": "password" * 4,
    "32 spaces": " " * 32,
}


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
        "BMABOT_REVIEWERS",
        "BMABOT_LINE_CHANNEL_SECRET",
        "BMABOT_TELEGRAM_WEBHOOK_SECRET",
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
    with pytest.raises(SettingsError, match="BMABOT_SECRET_KEY") as raised:
        require_secret_key(load_settings())
    assert MAKE_A_KEY in str(raised.value)


@pytest.mark.parametrize("key", WEAK_KEYS.values(), ids=WEAK_KEYS.keys())
def test_a_weak_secret_key_is_refused_with_how_to_make_a_good_one(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("BMABOT_SECRET_KEY", key)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert "BMABOT_SECRET_KEY: too weak" in message
    assert MAKE_A_KEY in message
    assert key.strip() == "" or key not in message  # the key is never echoed


def test_a_generated_secret_key_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BMABOT_SECRET_KEY", TEST_SECRET_KEY)
    assert require_secret_key(load_settings()) == TEST_SECRET_KEY


@pytest.mark.parametrize(
    "secret",
    ["a", "test-line-channel-secret", LINE_SHAPED[:31], LINE_SHAPED + "0", "g" * 32],
    ids=["one character", "words", "31 hex", "33 hex", "not hex"],
)
def test_a_line_channel_secret_of_another_shape_is_refused(secret: str) -> None:
    with pytest.raises(SettingsError, match="BMABOT_LINE_CHANNEL_SECRET: a LINE channel secret"):
        load_settings(line_channel_secret=secret)


def test_a_weak_line_channel_secret_of_the_right_shape_is_refused() -> None:
    with pytest.raises(SettingsError, match="BMABOT_LINE_CHANNEL_SECRET: too weak"):
        load_settings(line_channel_secret="0" * 32)


def test_a_line_channel_secret_as_line_gives_it_is_taken() -> None:
    secret = load_settings(line_channel_secret=LINE_SHAPED).line_channel_secret
    assert secret is not None
    assert secret.get_secret_value() == LINE_SHAPED


@pytest.mark.parametrize(
    "secret",
    ["a", "s3cret", "x" * 32, "has space" * 4],
    ids=["one character", "short", "repeated", "not telegram's alphabet"],
)
def test_a_weak_or_malformed_telegram_webhook_secret_is_refused(secret: str) -> None:
    with pytest.raises(SettingsError, match="BMABOT_TELEGRAM_WEBHOOK_SECRET") as raised:
        load_settings(telegram_webhook_secret=secret)
    assert MAKE_A_KEY in str(raised.value)  # token_urlsafe's alphabet is Telegram's


def test_a_generated_telegram_webhook_secret_is_taken() -> None:
    secret = "1WG-r20i3cPJy699S3Mi9h8LfcWj4aEFBcoN_Mk2"  # secrets.token_urlsafe(30)
    assert load_settings(telegram_webhook_secret=secret).telegram_webhook_secret is not None


@pytest.mark.parametrize("basic_id", ["@123abcde", "123abcde", " @123ABCDE "])
def test_the_line_basic_id_is_kept_as_line_shows_it_with_the_at_sign(basic_id: str) -> None:
    assert load_settings(line_bot_basic_id=basic_id).line_bot_basic_id == "@123abcde"


@pytest.mark.parametrize("basic_id", ["@", "@ab", "@123 abcde", "https://lin.ee/abc123"])
def test_a_line_basic_id_of_another_shape_is_refused(basic_id: str) -> None:
    with pytest.raises(SettingsError, match=r"BMABOT_LINE_BOT_BASIC_ID: .*Bot basic ID"):
        load_settings(line_bot_basic_id=basic_id)


@pytest.mark.parametrize("name", ["bma_account_bot", "@bma_account_bot", "BmaAccountBot"])
def test_the_telegram_bot_username_is_kept_without_the_at_sign(name: str) -> None:
    assert load_settings(telegram_bot_username=name).telegram_bot_username == name.lstrip("@")


@pytest.mark.parametrize("name", ["bma_account", "bot", "1bma_bot", "bma-account-bot"])
def test_a_telegram_name_that_is_no_bot_username_is_refused(name: str) -> None:
    with pytest.raises(SettingsError, match=r"BMABOT_TELEGRAM_BOT_USERNAME: .*ending in bot"):
        load_settings(telegram_bot_username=name)


@pytest.mark.parametrize(
    "reviewers", ["line:U4af4980629,telegram:123456", "telegram:123456", "group:any"]
)
def test_reviewers_are_a_list_or_every_member_of_the_group(reviewers: str) -> None:
    assert load_settings(reviewers=reviewers).reviewers == reviewers


@pytest.mark.parametrize(
    "reviewers",
    ["U4af4980629", "line:", "group:any,line:U4af4980629", "line:U1 line:U2"],
    ids=["no channel", "no id", "any with a list", "no comma"],
)
def test_a_reviewer_list_of_another_shape_is_refused(reviewers: str) -> None:
    with pytest.raises(SettingsError, match="BMABOT_REVIEWERS"):
        load_settings(reviewers=reviewers)


def test_a_blank_reviewer_list_is_no_list() -> None:
    assert load_settings(reviewers=" , ").reviewers == ""


def test_every_required_setting_that_is_missing_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        require(load_settings(), "secret_key", "reviewers")
    message = str(raised.value)
    assert "BMABOT_SECRET_KEY: required" in message
    assert "BMABOT_REVIEWERS: required" in message
    assert "group:any" in message


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


def test_the_mobile_number_is_verified_by_a_code_unless_turned_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BMABOT_VERIFY_MOBILE", raising=False)
    assert load_settings().verify_mobile is True
    monkeypatch.setenv("BMABOT_VERIFY_MOBILE", "false")
    assert load_settings().verify_mobile is False
