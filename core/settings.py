"""One frozen Settings object, read once from BMABOT_* variables and .env."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.rules.secret_strength import MIN_LENGTH, secret_weakness
from core.storage.crypto import SecretKeys

PREFIX = "BMABOT_"
MAKE_A_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
ANY_MEMBER = "group:any"  # BMABOT_REVIEWERS: every member of the review group may decide
REVIEWER = re.compile(r"[a-z]+:[^\s:,]+")  # channel:user id, such as line:U123 or telegram:456
LINE_CHANNEL_SECRET = re.compile(r"[0-9a-fA-F]{32}")  # as the LINE Developers console shows it
TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as secret_token
OLD_KEY = re.compile(r"([0-9]{1,3}):([^\s,]{32,})")  # BMABOT_OLD_SECRET_KEYS: version:key
# A LINE Official Account's id: a basic id such as @123abcde, or a premium id (@bma-account).
LINE_BOT_ID = re.compile(r"@[a-z0-9._-]{3,20}")
# A Telegram bot's user name: 5-32 of A-Z a-z 0-9 _, starting with a letter, ending in "bot".
TELEGRAM_BOT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{1,28}[Bb][Oo][Tt]")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names every variable at fault."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_file=".env", env_file_encoding="utf-8", frozen=True, extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///var/bmabot.db"
    data_dir: Path = Path("var/data")
    secret_key: SecretStr | None = None
    key_version: int = Field(default=1, ge=1, le=255)  # the first byte of what secret_key seals
    # Keys used before, as "1:<key>,2:<key>": they only decrypt, until `bmabot keys rotate`.
    old_secret_keys: SecretStr | None = None
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    org_file: Path | None = None

    line_channel_secret: SecretStr | None = None
    line_channel_access_token: SecretStr | None = None
    line_api_url: str = "https://api.line.me"
    line_data_api_url: str = "https://api-data.line.me"
    line_review_group_id: str | None = None
    line_rights_group_id: str | None = None  # e-GP / Web Portal requests; else the review group
    # The Official Account's basic id (@123abcde): `bmabot poster` prints its add-friend QR.
    line_bot_basic_id: str | None = None

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_secret: SecretStr | None = None
    telegram_review_chat_id: str | None = None
    telegram_rights_chat_id: str | None = None
    telegram_bot_username: str | None = None  # `bmabot poster`: the t.me/<name>?start=apply QR

    reviewers: str = ""
    review_remind_hours: int = Field(default=24, ge=1)
    review_expire_days: int = Field(default=14, ge=1)
    job_max_attempts: int = Field(default=10, ge=1)
    # The PDPA notice (locale apply.pdpa) promises these, and
    # tests/core/requests/test_notice_promises.py fails when the notice and the defaults
    # disagree. Photos: days after the decision (0: at the decision, an approval once its
    # account is made). Records: days a decided request keeps its personal fields before
    # only the minimal audit record is left (core.requests.retention).
    document_retention_days: int = Field(default=0, ge=0, le=3650)
    record_retention_days: int = Field(default=365, ge=0, le=3650)
    # How long a process has to send a turn's replies before another may take them over.
    send_lease_seconds: float = Field(default=20.0, gt=0, le=300)
    # How long a link to a document photo opens it (the review window); the decision ends it.
    media_link_hours: int = Field(default=24, ge=1, le=24 * 14)
    # Who may read /metrics and the details of /healthz: addresses or networks, or the token.
    metrics_allow: str = "127.0.0.1,::1"
    metrics_token: SecretStr | None = None

    # Rate limits per chat user, kept by each server process (0: no limit).
    rate_messages_per_minute: int = Field(default=30, ge=0)
    rate_photos_per_hour: int = Field(default=20, ge=0)
    rate_requests_per_day: int = Field(default=3, ge=0)

    directory: Literal["memory", "ldap"] = "memory"
    ldap_url: str | None = None
    ldap_bind_dn: str | None = None
    ldap_password: SecretStr | None = None
    ldap_users_dn: str | None = None
    mail_domain: str = "bangkok.go.th"
    # The directory's employeeType of a civil servant: only one may answer for a unit mailbox.
    civil_servant_type: str = Field(default="staff", min_length=1, max_length=64)
    # A right's directory group, as JSON: {"egp": "cn=egp,ou=groups,dc=bangkok,dc=go,dc=th"}.
    # A right with no group is recorded by bmabot only (and the Program System Section
    # sets it up in its own system).
    rights_groups: dict[Literal["egp", "webportal"], str] = Field(default_factory=dict)

    sms: Literal["outbox", "http"] = "outbox"
    sms_provider: Literal["json", "thaibulksms"] = "json"
    sms_url: str | None = None
    sms_api_key: SecretStr | None = None
    sms_api_secret: SecretStr | None = None
    sms_sender: str = Field(default="BMA mail", max_length=11)
    sms_outbox: Path = Path("var/sms-outbox.jsonl")
    # All SMS of a worker process in an hour (0: no limit): a launch day approves thousands.
    sms_per_hour: int = Field(default=6000, ge=0)
    # Jobs a worker process runs at the same time (each waits for the directory, the SMS
    # gateway and the database; the directory keeps 4 connections for them).
    jobs_at_once: int = Field(default=4, ge=1, le=16)
    # A one-time code by SMS proves the applicant holds the mobile number before submitting;
    # off only for the demo, the terminal chat and tests (issue 16).
    verify_mobile: bool = True

    @field_validator("secret_key")
    @classmethod
    def _strong_key(cls, key: SecretStr | None) -> SecretStr | None:
        weakness = None if key is None else secret_weakness(key.get_secret_value())
        if weakness is not None:
            raise ValueError(f"too weak ({weakness}); make a strong one with: {MAKE_A_KEY}")
        return key

    @field_validator("old_secret_keys")
    @classmethod
    def _old_keys(cls, keys: SecretStr | None) -> SecretStr | None:
        if keys is not None and not all(
            OLD_KEY.fullmatch(item.strip()) for item in keys.get_secret_value().split(",")
        ):
            raise ValueError(
                "a comma list of version:key, such as 1:<the key used before>, each key at "
                f"least {MIN_LENGTH} characters (the version BMABOT_KEY_VERSION had then)"
            )
        return keys

    @field_validator("metrics_allow")
    @classmethod
    def _metrics_allow(cls, allow: str) -> str:
        items = [item.strip() for item in allow.split(",") if item.strip()]
        try:
            for item in items:
                ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(
                "a comma list of addresses or networks, such as 127.0.0.1,::1,10.0.0.0/8"
            ) from None
        return ",".join(items)

    @field_validator("line_channel_secret")
    @classmethod
    def _line_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is None:
            return None
        if not LINE_CHANNEL_SECRET.fullmatch(secret.get_secret_value()):
            raise ValueError(
                "a LINE channel secret is 32 hexadecimal characters: copy it from the LINE "
                "Developers console (your channel, Basic settings, Channel secret)"
            )
        weakness = secret_weakness(secret.get_secret_value())
        if weakness is not None:
            raise ValueError(
                f"too weak ({weakness}); issue a new one in the LINE Developers console"
            )
        return secret

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _telegram_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is None:
            return None
        value = secret.get_secret_value()
        if not TELEGRAM_SECRET.fullmatch(value):
            raise ValueError(
                "Telegram takes 1-256 characters of A-Z a-z 0-9 _ - only; "
                f"make one with: {MAKE_A_KEY}"
            )
        weakness = secret_weakness(value)
        if weakness is not None:
            raise ValueError(f"too weak ({weakness}); make a strong one with: {MAKE_A_KEY}")
        return secret

    @field_validator("line_bot_basic_id")
    @classmethod
    def _line_bot_id(cls, basic_id: str | None) -> str | None:
        if basic_id is None or not basic_id.strip():
            return None
        cleaned = "@" + basic_id.strip().lower().removeprefix("@")
        if not LINE_BOT_ID.fullmatch(cleaned):
            raise ValueError(
                "the LINE Official Account's id, such as @123abcde: copy it from the LINE "
                "Developers console (your channel, Messaging API, Bot basic ID)"
            )
        return cleaned

    @field_validator("telegram_bot_username")
    @classmethod
    def _telegram_bot_name(cls, name: str | None) -> str | None:
        if name is None or not name.strip():
            return None
        cleaned = name.strip().removeprefix("@")
        if not TELEGRAM_BOT_NAME.fullmatch(cleaned):
            raise ValueError(
                "the bot's user name as BotFather gave it, such as bma_account_bot: "
                "5-32 letters, digits and _, ending in bot"
            )
        return cleaned

    @field_validator("reviewers")
    @classmethod
    def _reviewer_list(cls, reviewers: str) -> str:
        items = [item.strip() for item in reviewers.split(",") if item.strip()]
        if ANY_MEMBER in items and len(items) > 1:
            raise ValueError(f"{ANY_MEMBER} stands alone: every member decides, or the list")
        if not all(REVIEWER.fullmatch(item) for item in items):
            raise ValueError(
                "a comma list of channel:user-id, such as line:U4af4980629...,telegram:123456, "
                f"or {ANY_MEMBER} alone"
            )
        return ",".join(items)  # " " is no list: serve refuses it as unset


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning pydantic's report into one message naming each variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = [
            f"{PREFIX}{'_'.join(str(part) for part in issue['loc']).upper()}: "
            + issue["msg"].removeprefix("Value error, ")
            for issue in error.errors()
        ]
        raise SettingsError("Invalid settings:\n  " + "\n  ".join(problems)) from None


REQUIRED = {
    "secret_key": (
        "required: it encrypts the stored national IDs, photos and conversations "
        f"(at least {MIN_LENGTH} random characters, the same for every bmabot process); "
        f"make one with: {MAKE_A_KEY}"
    ),
    "reviewers": (
        "required: who may decide requests, as channel:user-id, such as "
        "line:U4af4980629...,telegram:123456 (the reviewers' LINE or Telegram user ids), "
        f"or {ANY_MEMBER} to let every member of the review group decide"
    ),
}


def require(settings: Settings, *names: str) -> None:
    """Refuse when any of these settings (keys of REQUIRED) is unset, naming each at once."""
    absent = [name for name in names if not getattr(settings, name)]
    if absent:
        raise SettingsError(
            "Invalid settings:\n  "
            + "\n  ".join(f"{PREFIX}{name.upper()}: {REQUIRED[name]}" for name in absent)
        )


def require_secret_key(settings: Settings) -> str:
    """The configured key; every command on stored data needs it and none makes one up."""
    require(settings, "secret_key")
    assert settings.secret_key is not None
    return settings.secret_key.get_secret_value()


def secret_keys(settings: Settings, current: str) -> SecretKeys:
    """The current key (BMABOT_SECRET_KEY or the trial key) with its version and the old keys."""
    old: dict[int, str] = {}
    if settings.old_secret_keys is not None:
        for item in settings.old_secret_keys.get_secret_value().split(","):
            version, _, key = item.strip().partition(":")
            old[int(version)] = key
    try:
        return SecretKeys(current, settings.key_version, old)
    except ValueError as error:
        raise SettingsError(
            f"Invalid settings:\n  {PREFIX}OLD_SECRET_KEYS, {PREFIX}KEY_VERSION: {error}"
        ) from None


def metrics_networks(
    settings: Settings,
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(item, strict=False)
        for item in settings.metrics_allow.split(",")
        if item
    ]
