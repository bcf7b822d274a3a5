"""The jobs this process runs: posting cards, creating accounts, suspensions, the morning round."""

from __future__ import annotations

import logging
import os
from datetime import timedelta

import aiohttp

from bot.handlers.accounts import KIND as ACCOUNT_JOB
from bot.handlers.accounts import AccountMaker
from bot.handlers.dispatcher import Dispatcher
from bot.handlers.failed_jobs import job_failed
from bot.handlers.kinds import kind_jobs
from bot.handlers.mobile_codes import KIND as MOBILE_CODE_JOB
from bot.handlers.mobile_codes import MobileCodeSender
from bot.handlers.review_cards import CardPoster, picture_links
from bot.handlers.review_morning import Morning
from bot.handlers.services import Services
from bot.handlers.suspension import suspension_jobs
from core.clock import Clock
from core.delivery.jobs import ClaimedJob
from core.delivery.worker import JobHandler, Worker
from core.settings import Settings
from core.sms.budget import with_budget
from core.sms.port import OutboxSms, SmsGateway
from core.storage.media_links import MediaLinks

logger = logging.getLogger(__name__)


def sms_gateway(settings: Settings, http: aiohttp.ClientSession, clock: Clock) -> SmsGateway:
    """The configured gateway behind the hour's SMS budget (BMABOT_SMS_PER_HOUR)."""
    return with_budget(_gateway(settings, http, clock), settings.sms_per_hour, clock)


def _gateway(settings: Settings, http: aiohttp.ClientSession, clock: Clock) -> SmsGateway:
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


def build_worker(
    settings: Settings,
    services: Services,
    links: MediaLinks,
    dispatcher: Dispatcher,
    sms: SmsGateway,
) -> Worker:
    assert services.directory is not None
    handlers: dict[str, JobHandler] = {
        "card.post": CardPoster(services, picture_links(links)),
        ACCOUNT_JOB: AccountMaker(services, services.directory, sms),
        MOBILE_CODE_JOB: MobileCodeSender(services, sms),
        **kind_jobs(services, services.directory, settings),  # handover, rights, ...
        "morning.round": Morning(
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
    )


def _then_wake(handler: JobHandler, dispatcher: Dispatcher) -> JobHandler:
    async def run(job: ClaimedJob) -> None:
        await handler(job)
        dispatcher.wake()  # the job may have queued messages to deliver

    return run
