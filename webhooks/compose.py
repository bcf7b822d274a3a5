"""The composition root: settings → storage → ports → services → handlers → channels.

Every entry point builds its parts here, then runs them: `serve`, `worker` and `demo`
through webhooks.app's create_app (open_parts, with the web simulator as an extra channel
for the demo), `chat` through open_parts with the terminal as its channel, and the
administration commands through open_services alone. Nothing is attached afterwards.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aiohttp

from bot.catalog import Catalog
from bot.flows.apply import apply_dialogue
from bot.handlers.accounts import AccountMaker
from bot.handlers.channels import Channel
from bot.handlers.conversation import ConversationHandler
from bot.handlers.dispatcher import Dispatcher
from bot.handlers.failed_jobs import job_failed
from bot.handlers.kinds import kind_jobs
from bot.handlers.media import MediaFetcher
from bot.handlers.mobile_codes import KIND as MOBILE_CODE_SMS
from bot.handlers.mobile_codes import MobileCodeSender
from bot.handlers.rate_limits import RateLimits
from bot.handlers.review_cards import CardPoster, picture_links
from bot.handlers.review_morning import Morning
from bot.handlers.review_policy import ReviewPolicy
from bot.handlers.sender import Observer
from bot.handlers.services import Services
from bot.handlers.suspension import suspension_jobs
from core.audit.chain import sign_with
from core.clock import Clock, SystemClock
from core.delivery.inbox_writer import InboxWriter
from core.delivery.job_kinds import ACCOUNT_CREATE, CARD_POST, MORNING_ROUND, JobKind
from core.delivery.jobs import ClaimedJob
from core.delivery.person_claims import person_claims
from core.delivery.worker import JobHandler, Worker
from core.directory.port import Directory, MemoryDirectory
from core.requests.retention import RetentionPolicy
from core.rules.organisation import Organisation
from core.settings import Settings, SettingsError, secret_keys
from core.sms.budget import with_budget
from core.sms.port import OutboxSms, SmsGateway
from core.storage.crypto import SecretKeys, Vault
from core.storage.db import (
    make_engine,
    make_sessions,
    sqlite_threads,
    upgrade_database_async,
)
from core.storage.documents import DocumentStore
from core.storage.media_links import MediaLinks
from webhooks.line.channel import LineChannel
from webhooks.line.setup import line_apis, line_configured
from webhooks.media import document_reader
from webhooks.runtime import CONSOLE_REVIEW_CHAT, organisation_file


@dataclass(frozen=True, slots=True)
class ExtraChannels:
    """Channels made by the caller (the demo's web page, the terminal), beside the configured.

    `channels` receive and send; `fetchers` only read the photos people send (the terminal
    prints its replies itself); `review_chats` names each one's reviewers' chat.
    """

    channels: Mapping[str, Channel] = field(default_factory=dict)
    review_chats: Mapping[str, str] = field(default_factory=dict)
    fetchers: Mapping[str, MediaFetcher] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Parts:
    """Everything one process runs: the services, the handler, and its two loops."""

    services: Services
    handler: ConversationHandler
    dispatcher: Dispatcher  # delivers replies and handles stored events
    worker: Worker  # runs the jobs
    inbox: InboxWriter  # stores the events the webhooks receive


@asynccontextmanager
async def open_parts(
    settings: Settings,
    *,
    secret_key: str,
    clock: Clock | None = None,
    extra: ExtraChannels | None = None,
    observer: Observer | None = None,
) -> AsyncIterator[Parts]:
    """Build every part in order; each is closed on the way out, the database last."""
    extra = extra or ExtraChannels()
    async with AsyncExitStack() as stack:
        services = await stack.enter_async_context(
            open_services(
                settings, secret_key=secret_key, clock=clock, review_chats=extra.review_chats
            )
        )
        threads = sqlite_threads(services.sessions)  # closed last: the others use them
        if threads is not None:
            stack.push_async_callback(threads.close)
        claims = person_claims(services.sessions)  # PostgreSQL: servers share the people
        if claims is not None:
            stack.push_async_callback(claims.close)
        channels = await _open_channels(settings, stack, services) | dict(extra.channels)
        handler = ConversationHandler(services, {**channels, **extra.fetchers})
        dispatcher = Dispatcher(
            handler,
            channels,
            observer=observer,
            send_lease=timedelta(seconds=settings.send_lease_seconds),
            threads=threads,
            claims=claims,
            limits=RateLimits(
                settings.rate_messages_per_minute,
                settings.rate_photos_per_hour,
                settings.rate_requests_per_day,
            ),
        )
        http = await stack.enter_async_context(aiohttp.ClientSession())
        worker = build_worker(
            settings, services, dispatcher, sms_gateway(settings, http, services.clock)
        )
        inbox = InboxWriter(services.sessions, services.vault, services.clock, threads)
        stack.push_async_callback(inbox.close)
        yield Parts(services, handler, dispatcher, worker, inbox)


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    secret_key: str,
    clock: Clock | None = None,
    directory: Directory | None = None,
    review_chats: Mapping[str, str] | None = None,
) -> AsyncIterator[Services]:
    """Migrate the database, then build every service; the engine is closed on the way out.

    `directory` stands in for the configured one (a benchmark that never reaches it).
    """
    keys = secret_keys(settings, secret_key)
    await upgrade_database_async(settings.database_url)
    engine = make_engine(settings.database_url)
    sign_with(engine, secret_key)  # the audit rows written through it are chained under it
    vault = Vault(keys)
    org = Organisation.load(organisation_file(settings))
    own_directory = None  # the caller closes a directory it passed in
    if directory is None:
        directory = own_directory = make_directory(settings)
    try:
        yield Services(
            sessions=make_sessions(engine),
            vault=vault,
            documents=DocumentStore(Path(settings.data_dir), vault),
            clock=clock or SystemClock(),
            dialogue=apply_dialogue(org, verify_mobile=settings.verify_mobile),
            catalog=Catalog.load(),
            organisation=org,
            media_links=media_links(settings, keys),
            directory=directory,
            policy=_review_policy(settings, review_chats or {}),
            job_max_attempts=settings.job_max_attempts,
            civil_servant_type=settings.civil_servant_type,
            verify_mobile=settings.verify_mobile,
            retention=RetentionPolicy(
                settings.document_retention_days, settings.record_retention_days
            ),
        )
    finally:
        if own_directory is not None:
            await own_directory.close()
        await engine.dispose()


def _review_policy(settings: Settings, review_chats: Mapping[str, str]) -> ReviewPolicy:
    return ReviewPolicy.from_settings(
        {
            "line": settings.line_review_group_id,
            "telegram": settings.telegram_review_chat_id,
            "console": CONSOLE_REVIEW_CHAT,
            **review_chats,
        },
        settings.reviewers,
        {"line": settings.line_rights_group_id, "telegram": settings.telegram_rights_chat_id},
    )


def media_links(settings: Settings, keys: SecretKeys) -> MediaLinks:
    """Links to document images at BMABOT_PUBLIC_URL, else at the address served here."""
    return MediaLinks.from_secret(
        keys,
        settings.public_url or f"http://{settings.host}:{settings.port}",
        timedelta(hours=settings.media_link_hours),
    )


def make_directory(settings: Settings) -> Directory:
    """The embedded directory for trying bmabot, or the real LDAP server."""
    if settings.directory == "memory":
        return MemoryDirectory(settings.mail_domain)
    from core.directory.ldap import LdapDirectory

    missing = [
        name
        for name in ("ldap_url", "ldap_bind_dn", "ldap_password", "ldap_users_dn")
        if getattr(settings, name) is None
    ]
    if missing:
        names = ", ".join("BMABOT_" + name.upper() for name in missing)
        raise SettingsError(f"Invalid settings:\n  BMABOT_DIRECTORY=ldap needs {names}")
    assert settings.ldap_url
    assert settings.ldap_bind_dn
    assert settings.ldap_password
    assert settings.ldap_users_dn
    password = settings.ldap_password.get_secret_value()
    return LdapDirectory(
        settings.ldap_url,
        settings.ldap_bind_dn,
        password,
        settings.ldap_users_dn,
        settings.mail_domain,
    )


def sms_gateway(settings: Settings, http: aiohttp.ClientSession, clock: Clock) -> SmsGateway:
    """The configured gateway behind the hour's SMS budget (BMABOT_SMS_PER_HOUR)."""
    return with_budget(_gateway(settings, http, clock), settings.sms_per_hour, clock)


def _gateway(settings: Settings, http: aiohttp.ClientSession, clock: Clock) -> SmsGateway:
    """The SMS outbox file for trying bmabot, or the provider's HTTP API."""
    if settings.sms == "outbox":
        return OutboxSms(settings.sms_outbox, sender=settings.sms_sender, clock=clock)
    from core.sms.http import HttpSms

    key, secret = settings.sms_api_key, settings.sms_api_secret
    return HttpSms(
        http,
        provider=settings.sms_provider,
        url=settings.sms_url or "",
        api_key=key.get_secret_value() if key else "",
        api_secret=secret.get_secret_value() if secret else None,
        sender=settings.sms_sender,
    )


async def _open_channels(
    settings: Settings, stack: AsyncExitStack, services: Services
) -> dict[str, Channel]:
    """The channels configured in the settings (LINE, Telegram), open until the stack closes."""
    channels: dict[str, Channel] = {}
    if line_configured(settings):
        api, blob = await stack.enter_async_context(line_apis(settings))
        channels["line"] = LineChannel(api, blob)
    if settings.telegram_bot_token is not None:
        # the SDK only where Telegram is served
        from webhooks.telegram.setup import telegram_channel

        channels["telegram"] = await stack.enter_async_context(
            telegram_channel(settings, document_reader(services))
        )
    return channels


def build_worker(
    settings: Settings, services: Services, dispatcher: Dispatcher, sms: SmsGateway
) -> Worker:
    """The jobs this process runs: posting cards, creating accounts, every request kind's
    approval job, the morning round and suspensions; a job that fails for good is shown to
    the reviewers, and the dispatcher delivers what each job queued."""
    handlers: dict[JobKind, JobHandler] = {
        CARD_POST: CardPoster(services, picture_links(services.media_links)),
        ACCOUNT_CREATE: AccountMaker(services, services.directory, sms),
        MOBILE_CODE_SMS: MobileCodeSender(services, sms),
        **kind_jobs(services, services.directory, settings),  # handover, rights, ...
        MORNING_ROUND: Morning(
            services,
            timedelta(hours=settings.review_remind_hours),
            timedelta(days=settings.review_expire_days),
        ),
        **suspension_jobs(services, services.directory, sms),
    }
    waking = {kind: _then_wake(handler, dispatcher) for kind, handler in handlers.items()}

    async def tell_reviewers(job: ClaimedJob, error: str) -> None:
        await job_failed(services, job, error)
        dispatcher.wake()

    return Worker(
        services.sessions,
        waking,
        services.clock,
        worker_id=f"bmabot-{os.getpid()}",
        on_failed=tell_reviewers,
        at_once=settings.jobs_at_once,
    )


def _then_wake(handler: JobHandler, dispatcher: Dispatcher) -> JobHandler:
    async def run(job: ClaimedJob) -> None:
        await handler(job)
        dispatcher.wake()  # the job may have queued messages to deliver

    return run
