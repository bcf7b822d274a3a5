"""One frozen Settings object, read once from BMABOT_* variables and .env."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "BMABOT_"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names every variable at fault."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_file=".env", env_file_encoding="utf-8", frozen=True, extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///var/bmabot.db"
    data_dir: Path = Path("var/data")
    secret_key: SecretStr | None = Field(default=None, min_length=32)
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

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_secret: SecretStr | None = None
    telegram_review_chat_id: str | None = None
    telegram_rights_chat_id: str | None = None

    reviewers: str = ""
    review_remind_hours: int = Field(default=24, ge=1)
    review_expire_days: int = Field(default=14, ge=1)
    job_max_attempts: int = Field(default=10, ge=1)
    # How long a process has to send a turn's replies before another may take them over.
    send_lease_seconds: float = Field(default=20.0, gt=0, le=300)

    directory: Literal["memory", "ldap"] = "memory"
    ldap_url: str | None = None
    ldap_bind_dn: str | None = None
    ldap_password: SecretStr | None = None
    ldap_users_dn: str | None = None
    mail_domain: str = "bangkok.go.th"
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


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning pydantic's report into one message naming each variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = [
            f"{PREFIX}{'_'.join(str(part) for part in issue['loc']).upper()}: {issue['msg']}"
            for issue in error.errors()
        ]
        raise SettingsError("Invalid settings:\n  " + "\n  ".join(problems)) from None


def require_secret_key(settings: Settings) -> str:
    if settings.secret_key is None:
        raise SettingsError(
            f"Invalid settings:\n  {PREFIX}SECRET_KEY: required (at least 32 characters), "
            "for example: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    return settings.secret_key.get_secret_value()
