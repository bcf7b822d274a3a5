"""Suspending an account that puts the system at risk (rule 2.9), and lifting it: the
reviewers' command, and the jobs that lock or unlock the directory, tell and text the person.

The command only records the change (core.requests.suspensions); the directory, the chat notice and
the SMS follow as jobs, so a directory or SMS gateway that is down delays them, never loses
them, and a retry never sends anything twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.flows.outgoing import Text
from bot.handlers.notify import tell
from bot.handlers.services import Services
from core.delivery.job_kinds import ACCOUNT_LOCK, ACCOUNT_UNLOCK, SUSPENSION_SMS, JobKind
from core.delivery.jobs import ClaimedJob, PermanentJobError
from core.delivery.worker import JobHandler
from core.directory.port import Directory, DirectoryError, DirectoryUnavailableError
from core.requests.suspension_jobs import (
    SuspensionView,
    confirm_locked,
    confirm_unlocked,
    settle_lock,
    suspension,
)
from core.requests.suspensions import (
    Origin,
    SuspensionEvent,
    SuspensionOutcome,
    lift_suspension,
    suspend_account,
)
from core.rules.validation import parse_mobile
from core.sms.port import SmsGateway, SmsPermanentError
from core.storage.db import Session

logger = logging.getLogger(__name__)

ANSWERS = {
    (SuspensionEvent.SUSPENDED, SuspensionOutcome.RECORDED): "suspend.done_suspended",
    (SuspensionEvent.LIFTED, SuspensionOutcome.RECORDED): "suspend.done_unsuspended",
    (SuspensionEvent.SUSPENDED, SuspensionOutcome.ALREADY_SUSPENDED): "suspend.already_suspended",
    (SuspensionEvent.LIFTED, SuspensionOutcome.NOT_SUSPENDED): "suspend.not_suspended",
}
TOLD_PERSON = {
    SuspensionEvent.SUSPENDED: "suspend.user_suspended",
    SuspensionEvent.LIFTED: "suspend.user_unsuspended",
}
TOLD_GROUP = {
    SuspensionEvent.SUSPENDED: "suspend.group_suspended",
    SuspensionEvent.LIFTED: "suspend.group_unsuspended",
}
SMS_TEXT = {
    SuspensionEvent.SUSPENDED: "suspend.sms_suspended",
    SuspensionEvent.LIFTED: "suspend.sms_unsuspended",
}


async def order_suspension(
    session: Session,
    services: Services,
    uid: str,
    reason: str,
    *,
    actor: str,
    origin: Origin | None,
    lift: bool = False,
) -> Text:
    """Record a suspension or its lifting in the caller's transaction; the answer to give."""
    directory = services.directory
    now, attempts = services.clock.now(), services.job_max_attempts
    try:
        if lift:
            outcome = await lift_suspension(
                session,
                directory,
                uid=uid,
                actor=actor,
                now=now,
                origin=origin,
                max_attempts=attempts,
            )
        else:
            outcome = await suspend_account(
                session,
                directory,
                uid=uid,
                reason=reason,
                actor=actor,
                now=now,
                origin=origin,
                max_attempts=attempts,
            )
    except DirectoryUnavailableError:
        return Text("suspend.directory_down")
    event = SuspensionEvent.LIFTED if lift else SuspensionEvent.SUSPENDED
    return Text(ANSWERS.get((event, outcome), "suspend.unknown"), {"uid": uid})


class DirectoryLockJob:
    """account.lock / account.unlock: the directory as the suspensions ask, then the news.

    The person and the chat that gave the command are told in the transaction that records
    the lock (or unlock) as done, once; that transaction also queues the SMS.
    """

    def __init__(self, services: Services, directory: Directory, *, lift: bool) -> None:
        self.services = services
        self.directory = directory
        self.event = SuspensionEvent.LIFTED if lift else SuspensionEvent.SUSPENDED

    async def __call__(self, job: ClaimedJob) -> None:
        async with self.services.sessions() as session:
            found = await suspension(session, int(job.payload["suspension_id"]))
        if found is None:
            return
        try:
            locked = await settle_lock(self.services.sessions, self.directory, found.uid)
        except DirectoryError as error:
            raise PermanentJobError(type(error).__name__) from None
        if locked != (self.event is SuspensionEvent.SUSPENDED):
            return  # a later change of the same account decides what the person hears
        await self._tell(found, job.payload)

    async def _tell(self, found: SuspensionView, payload: Mapping[str, Any]) -> None:
        services, event = self.services, self.event
        confirm = confirm_locked if event is SuspensionEvent.SUSPENDED else confirm_unlocked
        async with services.sessions.begin() as session:
            now = services.clock.now()
            if not await confirm(session, found.id, now, max_attempts=services.job_max_attempts):
                return  # told already, or this suspension was lifted before its lock
            if found.channel and found.user_id:
                said = Text(TOLD_PERSON[event], {"uid": found.uid, "reason": found.reason or "-"})
                await tell(session, services, found.channel, found.user_id, [said])
            channel, chat = payload.get("channel"), payload.get("chat_id")
            if channel and chat:
                note = Text(TOLD_GROUP[event], {"uid": found.uid})
                await tell(session, services, str(channel), str(chat), [note])


class SuspensionSms:
    """sms.suspension: the person's SMS, in Thai; the job's key is the SMS's idempotency key."""

    def __init__(self, services: Services, directory: Directory, sms: SmsGateway) -> None:
        self.services = services
        self.directory = directory
        self.sms = sms

    async def __call__(self, job: ClaimedJob) -> None:
        async with self.services.sessions() as session:
            found = await suspension(session, int(job.payload["suspension_id"]))
        event = SuspensionEvent(job.payload["event"])
        if found is None or not found.still_true(event):
            # Sent late (the gateway was down) after a lifting, or a new suspension: the
            # person has the later news in chat, and its SMS on its way.
            logger.info("job #%d: the account changed again; this SMS is not sent", job.id)
            return
        person = await self.directory.find_user(found.uid)
        mobile = parse_mobile(person.mobile) if person and person.mobile else None
        if not isinstance(mobile, str):
            logger.info("job #%d: the account has no mobile number to text", job.id)
            return
        text = self.services.catalog.text(SMS_TEXT[event], {"uid": found.uid})
        try:
            await self.sms.send(mobile, text, idempotency_key=job.key)
        except SmsPermanentError as error:
            raise PermanentJobError(type(error).__name__) from None


def suspension_jobs(
    services: Services, directory: Directory, sms: SmsGateway
) -> dict[JobKind, JobHandler]:
    """The handlers of the jobs a suspension or its lifting sets going, by kind."""
    return {
        ACCOUNT_LOCK: DirectoryLockJob(services, directory, lift=False),
        ACCOUNT_UNLOCK: DirectoryLockJob(services, directory, lift=True),
        SUSPENSION_SMS: SuspensionSms(services, directory, sms),
    }
